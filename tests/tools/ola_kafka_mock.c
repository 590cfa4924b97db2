/*
 * ola_kafka_mock.c - a Kafka cluster for tests: librdkafka's mock brokers.
 *
 * rdkafka_mock.h runs real Kafka-protocol brokers inside this process, on
 * loopback ports. The tool creates a cluster (--brokers N), creates topics
 * (--topic name:partitions, leaders on broker 1 so `down 1` takes the leader
 * away), prints "BOOTSTRAP host:port,..." on stdout and then obeys commands
 * on stdin, one per line: "down <id>", "up <id>", "rtt <id> <ms>" (delay
 * every response of a broker), "leader <topic> <partition> <id>",
 * "topic_error <topic> <code>" (metadata answers the topic with that Kafka
 * error code, e.g. 3 UNKNOWN_TOPIC_OR_PART: what a broker with auto-creation
 * off says of a topic that does not exist; 0 clears it), "quit";
 * "all" in place of a broker id applies down, up and rtt to every broker
 * (all brokers down: nothing can be acknowledged at all).
 * EOF and SIGTERM end it cleanly. Clients such as kcat connect to the
 * bootstrap address like to any cluster. Mind that a mock partition keeps only
 * its newest 5 MiB (librdkafka prunes older message sets): tests that read a
 * topic back from the beginning must stay below that per partition.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tests/lib/tools.h"

static volatile sig_atomic_t ola_mock_stop;

static void ola_mock_on_signal(int sig)
{
    (void)sig;
    ola_mock_stop = 1;
}

static int ola_mock_create_topic(rd_kafka_mock_cluster_t *mc, const char *spec,
                                 int brokers)
{
    char name[256];
    const char *colon = strrchr(spec, ':');
    long parts = 1, p;
    size_t n;
    rd_kafka_resp_err_t rc;

    n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || n >= sizeof(name) ||
        (colon != NULL && ola_tool_long(colon + 1, 1, 1000, &parts) != 0)) {
        fprintf(stderr, "ola_kafka_mock: bad --topic '%s' (name:partitions)\n", spec);
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    rc = rd_kafka_mock_topic_create(mc, name, (int)parts, brokers < 3 ? brokers : 3);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "ola_kafka_mock: topic %s: %s\n", name, rd_kafka_err2str(rc));
        return -1;
    }
    for (p = 0; p < parts; p++)
        rd_kafka_mock_partition_set_leader(mc, name, (int32_t)p, 1);
    return 0;
}

/*
 * A broker command for one broker id, or for ids 1..brokers when s is "all":
 * fills [*first, *last]. Returns 0, or -1 when s is neither.
 */
static int ola_mock_broker_ids(const char *s, long brokers, long *first, long *last)
{
    if (strcmp(s, "all") == 0) {
        *first = 1;
        *last = brokers;
        return 0;
    }
    if (ola_tool_long(s, 1, 1000, first) != 0)
        return -1;
    *last = *first;
    return 0;
}

/* Runs one command line; returns 1 on quit, 0 otherwise. */
static int ola_mock_command(rd_kafka_mock_cluster_t *mc, long brokers, char *line)
{
    char cmd[16] = "", a1[256] = "", a2[32] = "", a3[32] = "";
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__INVALID_ARG;
    long id = 0, last = 0, part = 0, ms = 0;
    int n = sscanf(line, "%15s %255s %31s %31s", cmd, a1, a2, a3);

    if (n < 1)
        return 0;
    if (strcmp(cmd, "quit") == 0)
        return 1;
    if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && n >= 2 &&
        ola_mock_broker_ids(a1, brokers, &id, &last) == 0) {
        for (rc = RD_KAFKA_RESP_ERR_NO_ERROR;
             id <= last && rc == RD_KAFKA_RESP_ERR_NO_ERROR; id++)
            rc = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                               : rd_kafka_mock_broker_set_up(mc, (int32_t)id);
    } else if (strcmp(cmd, "rtt") == 0 && n >= 3 &&
               ola_mock_broker_ids(a1, brokers, &id, &last) == 0 &&
               ola_tool_long(a2, 0, 60000, &ms) == 0) {
        for (rc = RD_KAFKA_RESP_ERR_NO_ERROR;
             id <= last && rc == RD_KAFKA_RESP_ERR_NO_ERROR; id++)
            rc = rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
    } else if (strcmp(cmd, "leader") == 0 && n == 4 &&
               ola_tool_long(a2, 0, 100000, &part) == 0 &&
               ola_tool_long(a3, -1, 1000, &id) == 0) {
        rc = rd_kafka_mock_partition_set_leader(mc, a1, (int32_t)part, (int32_t)id);
    } else if (strcmp(cmd, "topic_error") == 0 && n == 3 &&
               ola_tool_long(a2, 0, 32767, &id) == 0) {
        rd_kafka_mock_topic_set_error(mc, a1, (rd_kafka_resp_err_t)id);
        rc = RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR)
        fprintf(stderr, "ola_kafka_mock: '%s': %s\n", cmd, rd_kafka_err2str(rc));
    else
        fprintf(stderr, "ola_kafka_mock: %s %s done\n", cmd, a1);
    return 0;
}

static void ola_mock_usage(void)
{
    fprintf(stderr, "usage: ola_kafka_mock [--brokers N] [--topic name:partitions]...\n");
}

int main(int argc, char **argv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *mc = NULL;
    rd_kafka_t *rk = NULL;
    struct sigaction sa;
    char errstr[256], line[1024];
    size_t have = 0;
    long brokers = 3;
    int i, rc = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ola_mock_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            if (ola_tool_long(argv[++i], 1, 100, &brokers) != 0) {
                ola_mock_usage();
                goto fail;
            }
        }
    /* The handle only hosts the cluster; it never produces. */
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "ola_kafka_mock: %s\n", errstr);
        goto fail;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "ola_kafka_mock: %s\n", errstr);
        goto fail;
    }
    conf = NULL;
    mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (mc == NULL) {
        fprintf(stderr, "ola_kafka_mock: cannot create the mock cluster\n");
        goto fail;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0) {
            i++;
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            if (ola_mock_create_topic(mc, argv[++i], (int)brokers) != 0)
                goto fail;
        } else {
            ola_mock_usage();
            goto fail;
        }
    }
    printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (!ola_mock_stop) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        ssize_t n;
        char *nl;

        if (poll(&pfd, 1, 200) <= 0)
            continue;
        n = read(STDIN_FILENO, line + have, sizeof(line) - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF: the test is gone */
        have += (size_t)n;
        line[have] = '\0';
        while ((nl = strchr(line, '\n')) != NULL) {
            size_t used = (size_t)(nl - line) + 1;

            *nl = '\0';
            if (ola_mock_command(mc, brokers, line) == 1)
                ola_mock_stop = 1;
            memmove(line, line + used, have - used + 1);
            have -= used;
        }
        if (have == sizeof(line) - 1)
            have = 0; /* an endless line: drop it */
    }
    rc = 0;
fail:
    if (mc != NULL)
        rd_kafka_mock_cluster_destroy(mc);
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (conf != NULL)
        rd_kafka_conf_destroy(conf);
    return rc;
}
