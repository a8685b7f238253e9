#include "bpf_loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "native_error.h"
#include "podtrace.h"

void BpfLoader::ObjectDeleter::operator()(bpf_object *o) const { bpf_object__close(o); }
void BpfLoader::LinkDeleter::operator()(bpf_link *l) const { bpf_link__destroy(l); }

BpfLoader::BpfLoader(LoaderOptions options) : options_(std::move(options)) {}

BpfLoader::~BpfLoader() {
  links_.clear();  // detach before the programs go away
  objects_.clear();
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
}

namespace {

const char *const kSharedMaps[] = {"events", "losses", "pt_drops", "pt_scope", "pt_scope_mode", "pt_rate"};

// Sets a `const volatile` global in .rodata before load, found by name through the object's BTF.
// Returns false when the object does not declare it and `required` is false.
bool set_rodata(bpf_object *obj, const char *name, const void *value, size_t size, bool required = true) {
  bpf_map *rodata = nullptr;
  bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    const char *n = bpf_map__name(m);
    if (n && std::strstr(n, ".rodata")) rodata = m;
  }
  const btf *b = bpf_object__btf(obj);
  if ((!rodata || !b) && !required) return false;
  if (!rodata || !b) throw NativeFailure(std::string("set ") + name + ": no .rodata in object", ENOENT);
  int sec_id = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0 && !required) return false;
  if (sec_id < 0) throw NativeFailure(std::string("set ") + name + ": no .rodata section", ENOENT);
  const btf_type *sec = btf__type_by_id(b, sec_id);
  const btf_var_secinfo *vs = btf_var_secinfos(sec);
  size_t data_size = 0;
  const auto *initial = static_cast<const char *>(bpf_map__initial_value(rodata, &data_size));
  if (!initial) throw NativeFailure(std::string("set ") + name + ": no initial value", ENOENT);
  std::vector<char> data(initial, initial + data_size);
  for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
    const btf_type *var = btf__type_by_id(b, vs->type);
    if (std::strcmp(btf__name_by_offset(b, var->name_off), name) != 0) continue;
    if (vs->size != size || vs->offset + size > data_size)
      throw NativeFailure(std::string("set ") + name + ": size mismatch", EINVAL);
    std::memcpy(data.data() + vs->offset, value, size);
    int err = bpf_map__set_initial_value(rodata, data.data(), data.size());
    if (err) throw NativeFailure(std::string("set ") + name, -err);
    return true;
  }
  if (!required) return false;
  throw NativeFailure(std::string("set ") + name + ": not found", ENOENT);
}

}  // namespace

void BpfLoader::load() {
  for (const auto &g : options_.groups) load_group(g, false);
  for (const auto &g : options_.optional) {
    try {
      load_group(g, true);
    } catch (const NativeFailure &f) {
      hooks_.push_back({g, "(object)", false, f.what()});
    }
  }
}

void BpfLoader::load_group(const std::string &group, bool optional) {
  const std::string path = options_.object_dir + "/" + group + ".bpf.o";
  // CO-RE against the kernel's vmlinux BTF only. Without this, a type missing from vmlinux (e.g. a
  // tracepoint struct renamed by a newer kernel, for a program that checks bpf_core_type_exists)
  // makes libbpf look through module BTFs, whose enumeration (BPF_BTF_GET_NEXT_ID) needs
  // CAP_SYS_ADMIN: with only CAP_BPF + CAP_PERFMON (the DaemonSet) libbpf < 1.3 then fails the whole
  // load with EPERM. podtrace's programs use no module types.
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = "/sys/kernel/btf/vmlinux");
  bpf_object *raw = bpf_object__open_file(path.c_str(), &open_opts);
  if (!raw) throw NativeFailure("probe group " + group + ": open " + path, errno ? errno : ENOENT);
  std::unique_ptr<bpf_object, ObjectDeleter> obj(raw);

  set_rodata(obj.get(), "pt_argv_bytes", &options_.argv_bytes, sizeof(options_.argv_bytes));
  set_rodata(obj.get(), "pt_wakeup_bytes", &options_.wakeup_bytes, sizeof(options_.wakeup_bytes));
  set_rodata(obj.get(), "pt_cgroup_hierarchy", &options_.cgroup_hierarchy, sizeof(options_.cgroup_hierarchy));
  set_rodata(obj.get(), "pt_cgroup_v1_ssid", &options_.cgroup_v1_ssid, sizeof(options_.cgroup_v1_ssid));
  for (const auto &kv : options_.rodata)
    set_rodata(obj.get(), kv.first.c_str(), kv.second.data(), kv.second.size(), false);
  for (const auto &kv : options_.map_sizes) {
    bpf_map *m = bpf_object__find_map_by_name(obj.get(), kv.first.c_str());
    if (!m) continue;
    int err = bpf_map__set_max_entries(m, kv.second);
    if (err) throw NativeFailure("probe group " + group + ": size map " + kv.first, -err);
  }

  bpf_map *events = bpf_object__find_map_by_name(obj.get(), "events");
  bpf_map *losses = bpf_object__find_map_by_name(obj.get(), "losses");
  if (!events || !losses) throw NativeFailure("probe group " + group + ": missing events/losses map", ENOENT);
  if (ring_fd_ >= 0) {
    for (const char *name : kSharedMaps) {
      bpf_map *m = bpf_object__find_map_by_name(obj.get(), name);
      auto fd = shared_fds_.find(name);
      if (!m || fd == shared_fds_.end()) continue;
      int err = bpf_map__reuse_fd(m, fd->second);
      if (err) throw NativeFailure("probe group " + group + ": share map " + name, -err);
    }
  } else {
    int err = bpf_map__set_max_entries(events, options_.ring_buffer_bytes);
    if (err) throw NativeFailure("probe group " + group + ": size ring buffer", -err);
  }

  int err = bpf_object__load(obj.get());
  if (err) throw NativeFailure("probe group " + group + ": load", -err);

  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links;
  std::vector<bpf_program *> iterators;
  bpf_program *prog;
  bpf_object__for_each_program(prog, obj.get()) {
    const char *sec = bpf_program__section_name(prog);
    if (sec && std::strncmp(sec, "iter/", 5) == 0) {
      iterators.push_back(prog);  // run once, after the group's hooks are attached
      continue;
    }
    bpf_link *link = nullptr;
    if (sec && std::strncmp(sec, "cgroup", 6) == 0) {
      if (cgroup_fd_ < 0 && !options_.cgroup_path.empty())
        cgroup_fd_ = open(options_.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cgroup_fd_ < 0) {
        int e = options_.cgroup_path.empty() ? ENOENT : errno;
        throw NativeFailure("probe group " + group + ": open cgroup2 root '" + options_.cgroup_path + "'", e);
      }
      link = bpf_program__attach_cgroup(prog, cgroup_fd_);
    } else {
      link = bpf_program__attach(prog);
    }
    if (!link) {
      int e = errno ? errno : EINVAL;
      std::string hook = sec ? sec : bpf_program__name(prog);
      std::string kind = hook.substr(0, hook.find('/'));
      std::string target = hook.substr(hook.find('/') + 1);
      if (optional) throw NativeFailure("attach " + kind + " " + target, e);
      throw NativeFailure("probe group " + group + ": attach " + kind + " " + target, e);
    }
    links.emplace_back(link);
    hooks_.push_back({group, sec ? sec : "", true, ""});
  }
  // State that predates podtrace (e.g. sockets opened before start), learned once. The hooks are
  // already attached, so nothing created from now on is missed; an iterator the kernel refuses is
  // reported and skipped (the events then say their owner is unknown).
  for (bpf_program *it : iterators) {
    const char *sec = bpf_program__section_name(it);
    try {
      size_t n = run_iterator(it);
      hooks_.push_back({group, sec ? sec : "", true, std::to_string(n) + " existing objects learned"});
    } catch (const NativeFailure &f) {
      hooks_.push_back({group, sec ? sec : "", false, f.what()});
    }
  }
  if (ring_fd_ < 0) {
    ring_fd_ = bpf_map__fd(events);
    losses_fd_ = bpf_map__fd(losses);
    for (const char *name : kSharedMaps) {
      bpf_map *m = bpf_object__find_map_by_name(obj.get(), name);
      if (m) shared_fds_[name] = bpf_map__fd(m);
    }
  }
  for (auto &l : links) links_.push_back(std::move(l));
  objects_.push_back(std::move(obj));
}

size_t BpfLoader::run_iterator(bpf_program *prog) {
  bpf_link *link = bpf_program__attach_iter(prog, nullptr);
  if (!link) throw NativeFailure("attach iterator", errno ? errno : EINVAL);
  std::unique_ptr<bpf_link, LinkDeleter> guard(link);
  int fd = bpf_iter_create(bpf_link__fd(link));
  if (fd < 0) throw NativeFailure("create iterator", errno ? errno : EINVAL);
  size_t total = 0;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      int e = errno;
      close(fd);
      throw NativeFailure("read iterator", e);
    }
    total += static_cast<size_t>(n);
  }
  close(fd);
  return total;
}

int BpfLoader::map_fd(const std::string &name) const {
  auto shared = shared_fds_.find(name);
  if (shared != shared_fds_.end()) return shared->second;
  for (const auto &o : objects_) {
    bpf_map *m = bpf_object__find_map_by_name(o.get(), name.c_str());
    if (m) return bpf_map__fd(m);
  }
  return -1;
}

std::vector<uint64_t> BpfLoader::losses() const {
  std::vector<uint64_t> out(PT_EVENT_KIND_MAX + 1, 0);
  if (losses_fd_ < 0) return out;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  for (uint32_t k = 0; k <= PT_EVENT_KIND_MAX; k++) {
    if (bpf_map_lookup_elem(losses_fd_, &k, per_cpu.data()) != 0) continue;
    for (auto v : per_cpu) out[k] += v;
  }
  return out;
}
