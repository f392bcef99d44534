/* SPDX-License-Identifier: MIT */
/*
 * Packages' own settings, as Windows packages read theirs from the
 * registry: lsashmd hands the host every "STEM.KEY VALUE" line of its
 * configuration, and a package asks for its keys with
 * LsashmGetPackageSetting. The package is the one whose entry point is
 * running (the calling thread's context, as for LsashmShareSection), and
 * STEM is its library's file name without ".so", which is known from
 * dlopen on: settings are there from SpLsaModeInitialize on, before the
 * package has told its name.
 *
 * Only the host's thread runs package entry points, so only it reads the
 * settings, and only it replaces them (at start and on SIGHUP, between
 * dispatches): no lock. A package's own thread has no entry point running
 * and gets STATUS_ACCESS_DENIED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-packages.h"

/* STATUS_NO_MORE_ENTRIES comes with the extension's declaration. */
#include "lsashm/ntsecpkg.h"

static struct host_setting *settings;
static size_t nsettings;

static void settings_free(struct host_setting *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free((void *)(uintptr_t)s[i].package);
                free((void *)(uintptr_t)s[i].key);
                free((void *)(uintptr_t)s[i].value);
        }
        free(s);
}

int host_set_package_settings(struct host *h, const struct host_setting *s, size_t n)
{
        (void)h;
        if (n && !s)
                return -EINVAL;
        struct host_setting *copy = n ? calloc(n, sizeof(*copy)) : NULL;
        if (n && !copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!s[i].package || !s[i].key || !s[i].value) {
                        settings_free(copy, i);
                        return -EINVAL;
                }
                copy[i].package = strdup(s[i].package);
                copy[i].key = strdup(s[i].key);
                copy[i].value = strdup(s[i].value);
                if (!copy[i].package || !copy[i].key || !copy[i].value) {
                        settings_free(copy, i + 1);
                        return -ENOMEM;
                }
        }
        settings_free(settings, nsettings);
        settings = copy;
        nsettings = n;
        return 0;
}

/* The package's file name without its directory and a final ".so". */
static void package_stem(const struct host_package *p, const char **ret, size_t *ret_len)
{
        const char *base = strrchr(p->path, '/');
        base = base ? base + 1 : p->path;
        size_t len = strlen(base);
        if (len > 3 && !strcmp(base + len - 3, ".so"))
                len -= 3;
        *ret = base;
        *ret_len = len;
}

NTSTATUS NTAPI LsashmGetPackageSetting(PCSTR Key, ULONG Index, PSTR Value, ULONG ValueSize, PULONG ValueLength)
{
        if (!Key || !*Key || !ValueLength || (ValueSize && !Value))
                return STATUS_INVALID_PARAMETER;
        const struct host_package *p = host_active_package;
        if (!p)
                return STATUS_ACCESS_DENIED;
        const char *stem;
        size_t stem_len;
        package_stem(p, &stem, &stem_len);
        ULONG seen = 0;
        for (size_t i = 0; i < nsettings; i++) {
                const struct host_setting *s = &settings[i];
                if (strlen(s->package) != stem_len || memcmp(s->package, stem, stem_len) || strcmp(s->key, Key))
                        continue;
                if (seen++ != Index)
                        continue;
                size_t len = strlen(s->value);
                if (len >= ValueSize) {
                        /* What it takes, NUL included; Value untouched. */
                        *ValueLength = (ULONG)len + 1;
                        return STATUS_BUFFER_TOO_SMALL;
                }
                memcpy(Value, s->value, len + 1);
                *ValueLength = (ULONG)len;
                return STATUS_SUCCESS;
        }
        return seen ? STATUS_NO_MORE_ENTRIES : STATUS_OBJECT_NAME_NOT_FOUND;
}
