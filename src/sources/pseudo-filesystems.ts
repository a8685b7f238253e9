/**
 * Filesystems whose "files" are kernel interfaces, not storage: the `file` probe group reports no
 * I/O on them unless `source.ebpf.file.includePseudoFilesystems` is set. Matched in the kernel by
 * superblock magic (include/uapi/linux/magic.h). Sockets, pipes, character devices and anonymous
 * inodes (eventfd, epoll, …) are never files, whatever this list says: the kernel checks the inode type.
 */
export const PSEUDO_FILESYSTEMS: Readonly<Record<string, number>> = {
  proc: 0x9fa0,
  sysfs: 0x62656572,
  cgroup: 0x27e0eb,
  cgroup2: 0x63677270,
  devpts: 0x1cd1,
  debugfs: 0x64626720,
  tracefs: 0x74726163,
  bpf: 0xcafe4a11,
  pipefs: 0x50495045,
  sockfs: 0x534f434b,
  anon_inodefs: 0x09041934,
  nsfs: 0x6e736673,
  securityfs: 0x73636673,
  selinuxfs: 0xf97cff8c,
  configfs: 0x62656570,
  fusectl: 0x65735543,
  pstore: 0x6165676c,
  efivarfs: 0xde5e81e4,
  mqueue: 0x19800202,
  binfmt_misc: 0x42494e4d,
};

/** Slots of pt_file_skip_magic in bpf/file.bpf.c. */
export const FILE_SKIP_SLOTS = 24;
