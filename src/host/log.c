/* SPDX-License-Identifier: MIT */
/*
 * lsashmd's log: one line per event on stderr. When stderr is the journal
 * (systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected), each line starts with its syslog priority, "<3>" for an error
 * ... "<7>" for debug, which journald takes as the line's priority and
 * strips, so `journalctl -p err` shows only errors. Anywhere else (a
 * terminal, a file, a test) the prefix would be noise and is left out.
 *
 * A line's priority is the prefix its format starts with (HOST_LOG_ERR ...,
 * sd-daemon.h's convention); a line without one is LOG_INFO. A line logged
 * while a package's entry point runs (the package's own thread of control,
 * on its behalf) is prefixed with the package's name.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host-base.h"

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static bool journal;

/* The check sd_journal_stream_fd's documentation gives: JOURNAL_STREAM is
 * "DEVICE:INODE" of the stream systemd connected to stdout/stderr; it is
 * inherited by programs stderr was redirected for, so compare. */
static void journal_detect(void)
{
        journal = host_log_stderr_is_journal();
}

bool host_log_stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        char end;
        if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &end) != 2)
                return false;
        struct stat st;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int host_log_priority(const char **line)
{
        const char *s = *line;
        if (s[0] == '<' && s[1] >= '0' && s[1] <= '7' && s[2] == '>') {
                *line = s + 3;
                return s[1] - '0';
        }
        return 6; /* LOG_INFO */
}

void host_log_write(int priority, const char *package, const char *text)
{
        pthread_once(&journal_once, journal_detect);
        char prefix[4] = "";
        if (journal)
                snprintf(prefix, sizeof(prefix), "<%d>", priority & 7);
        char line[640];
        int n;
        if (package)
                n = snprintf(line, sizeof(line), "%slsashmd: package %s: %s\n", prefix, package, text);
        else
                n = snprintf(line, sizeof(line), "%slsashmd: %s\n", prefix, text);
        if (n < 0)
                return;
        size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
        line[len - 1] = '\n'; /* a truncated line still ends one */
        /* One write: lines from the host's and packages' threads do not
         * interleave (a pipe takes up to PIPE_BUF bytes whole). */
        if (write(STDERR_FILENO, line, len) < 0) {
                /* nowhere else to say it */
        }
}

VOID NTAPI LsashmLogMessage(ULONG Priority, PCSTR Message)
{
        char text[500];
        size_t n = 0;
        /* A package's bytes: no line breaks, escapes or forged "<N>". */
        for (const char *s = Message ? Message : ""; *s && n + 1 < sizeof(text); s++) {
                unsigned char c = (unsigned char)*s;
                text[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        text[n] = '\0';
        const char *package = host_crash_package();
        host_log_write(Priority > 7 ? 7 : (int)Priority, package ? package : "thread", text);
}

void host_logf(struct host *h, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        const char *text = buf;
        int priority = host_log_priority(&text);
        /* On a package's behalf: it is running now, and the line does not
         * already begin by naming it. */
        const char *package = host_crash_package();
        if (package && !strncmp(text, "package ", 8))
                package = NULL;
        if (h && h->cfg.log) {
                char line[600];
                if (package)
                        snprintf(line, sizeof(line), "package %s: %s", package, text);
                /* Workers and package threads log too: the sink sees one
                 * line at a time, as it did when one thread served all. */
                pthread_mutex_lock(&h->log_lock);
                h->cfg.log(h->cfg.log_ctx, package ? line : text);
                pthread_mutex_unlock(&h->log_lock);
        } else {
                host_log_write(priority, package, text);
        }
}
