/*
 * kafka-mock: a Kafka cluster speaking the real wire protocol, for tests, built on librdkafka's
 * mock cluster (rdkafka_mock.h). Listens on 127.0.0.1 ephemeral ports only.
 *
 *   kafka-mock [-b BROKERS] [TOPIC:PARTITIONS:RF ...]
 *
 * Prints the bootstrap servers as the first line on stdout, then reads commands on stdin, one per
 * line, and answers each with `ok` or `error <reason>`:
 *   down <id>                      broker <id> (-1 = all) refuses connections
 *   up <id>                        broker <id> (-1 = all) accepts connections again
 *   leader <topic> <partition> <id> move a partition's leader
 *   create <topic> <partitions> <rf>
 *   topicerr <topic> <error code>   metadata answers the topic with this error (0 clears it)
 *   reqerr <api key> <code> [code...] the next requests of that API (0 = Produce) fail with these codes, in turn
 *   quit                           (or end of input) stop the cluster and exit 0
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024

static int parse_int(const char *s, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static void reply(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    printf("ok\n");
  else
    printf("error %s\n", rd_kafka_err2str(err));
  fflush(stdout);
}

static void reply_usage(const char *what) {
  printf("error usage: %s\n", what);
  fflush(stdout);
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
  char buf[LINE_MAX_LEN];
  snprintf(buf, sizeof buf, "%s", spec);
  char *p2 = strrchr(buf, ':');
  if (p2 == NULL) return -1;
  *p2++ = '\0';
  char *p1 = strrchr(buf, ':');
  if (p1 == NULL) return -1;
  *p1++ = '\0';
  long parts, rf;
  if (buf[0] == '\0' || parse_int(p1, 1, 10000, &parts) || parse_int(p2, 1, 100, &rf)) return -1;
  return rd_kafka_mock_topic_create(mc, buf, (int)parts, (int)rf) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* Runs one command line; returns 1 on quit. */
static int run_command(rd_kafka_mock_cluster_t *mc, char *line) {
  char *argv[34] = {0};
  int argc = 0;
  for (char *tok = strtok(line, " \t\r\n"); tok != NULL && argc < 34; tok = strtok(NULL, " \t\r\n"))
    argv[argc++] = tok;
  if (argc == 0) return 0;
  long a, b, c;
  if (strcmp(argv[0], "quit") == 0) return 1;
  if (strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) {
    if (argc != 2 || parse_int(argv[1], -1, 1000, &a)) {
      reply_usage("down|up <broker id | -1>");
      return 0;
    }
    reply(argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)a) : rd_kafka_mock_broker_set_up(mc, (int32_t)a));
  } else if (strcmp(argv[0], "leader") == 0) {
    if (argc != 4 || parse_int(argv[2], 0, 100000, &b) || parse_int(argv[3], -1, 1000, &c)) {
      reply_usage("leader <topic> <partition> <broker id>");
      return 0;
    }
    reply(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)b, (int32_t)c));
  } else if (strcmp(argv[0], "create") == 0) {
    if (argc != 4 || parse_int(argv[2], 1, 10000, &b) || parse_int(argv[3], 1, 100, &c)) {
      reply_usage("create <topic> <partitions> <replication factor>");
      return 0;
    }
    reply(rd_kafka_mock_topic_create(mc, argv[1], (int)b, (int)c));
  } else if (strcmp(argv[0], "topicerr") == 0) {
    if (argc != 3 || parse_int(argv[2], -1, 32767, &b)) {
      reply_usage("topicerr <topic> <error code>");
      return 0;
    }
    rd_kafka_mock_topic_set_error(mc, argv[1], (rd_kafka_resp_err_t)b);
    reply(RD_KAFKA_RESP_ERR_NO_ERROR);
  } else if (strcmp(argv[0], "reqerr") == 0) {
    rd_kafka_resp_err_t errs[32];
    if (argc < 3 || parse_int(argv[1], 0, 1000, &a)) {
      reply_usage("reqerr <api key> <error code> [error code ...]");
      return 0;
    }
    size_t n = 0;
    for (int i = 2; i < argc; i++) {
      if (parse_int(argv[i], -1, 32767, &c)) {
        reply_usage("reqerr <api key> <error code> [error code ...]");
        return 0;
      }
      errs[n++] = (rd_kafka_resp_err_t)c;
    }
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, n, errs);
    reply(RD_KAFKA_RESP_ERR_NO_ERROR);
  } else {
    printf("error unknown command %s\n", argv[0]);
    fflush(stdout);
  }
  return 0;
}

int main(int argc, char **argv) {
  long brokers = 3;
  int first_topic = 1;
  if (argc >= 3 && strcmp(argv[1], "-b") == 0) {
    if (parse_int(argv[2], 1, 32, &brokers)) {
      fprintf(stderr, "kafka-mock: -b needs a broker count 1..32, got %s\n", argv[2]);
      return 2;
    }
    first_topic = 3;
  }

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only hosts the cluster; keep its own logging quiet. */
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "kafka-mock: %s\n", errstr);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == NULL) {
    fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
  if (mc == NULL) {
    fprintf(stderr, "kafka-mock: could not create the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  for (int i = first_topic; i < argc; i++) {
    if (create_topic(mc, argv[i]) != 0) {
      fprintf(stderr, "kafka-mock: bad topic spec %s (want name:partitions:rf)\n", argv[i]);
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 2;
    }
  }

  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[LINE_MAX_LEN];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (run_command(mc, line)) break;
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
