/* SPDX-License-Identifier: MIT */
/*
 * LsashmSetPackageStatus: the one-line status a package gives `lsashm
 * status`. A slot exists from the moment a package's id is given (before
 * its first entry point) until it is freed, so a status can neither outlive
 * its package nor land on a package that reuses a failed one's id.
 *
 * Packages call in from their own threads: the slots have their own lock,
 * taken by nothing else and holding nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "host/host-packages.h"

static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        bool used;
        unsigned id;
        char text[LSASHM_MAX_PACKAGE_STATUS + 1];
} slots[HOST_MAX_PACKAGES + 1]; /* + the one loading */

void host_package_status_register(unsigned id)
{
        pthread_mutex_lock(&status_lock);
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
                if (!slots[i].used) {
                        slots[i].used = true;
                        slots[i].id = id;
                        slots[i].text[0] = '\0';
                        break;
                }
        }
        pthread_mutex_unlock(&status_lock);
}

void host_package_status_forget(unsigned id)
{
        pthread_mutex_lock(&status_lock);
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
                if (slots[i].used && slots[i].id == id)
                        slots[i].used = false;
        pthread_mutex_unlock(&status_lock);
}

bool host_package_status_get(unsigned id, char *buf, size_t size)
{
        bool found = false;
        pthread_mutex_lock(&status_lock);
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]) && !found; i++) {
                if (slots[i].used && slots[i].id == id && slots[i].text[0]) {
                        snprintf(buf, size, "%s", slots[i].text);
                        found = true;
                }
        }
        pthread_mutex_unlock(&status_lock);
        return found;
}

NTSTATUS NTAPI LsashmSetPackageStatus(ULONG_PTR PackageId, PCSTR Status)
{
        size_t len = 0;
        if (Status) {
                while (len <= LSASHM_MAX_PACKAGE_STATUS && Status[len]) {
                        unsigned char ch = (unsigned char)Status[len];
                        if (ch < 0x20 || ch > 0x7e)
                                return STATUS_INVALID_PARAMETER;
                        len++;
                }
                if (len > LSASHM_MAX_PACKAGE_STATUS)
                        return STATUS_INVALID_PARAMETER;
        }
        NTSTATUS st = STATUS_NOT_FOUND;
        pthread_mutex_lock(&status_lock);
        for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
                if (slots[i].used && slots[i].id == PackageId) {
                        memcpy(slots[i].text, Status ? Status : "", len);
                        slots[i].text[len] = '\0';
                        st = STATUS_SUCCESS;
                        break;
                }
        }
        pthread_mutex_unlock(&status_lock);
        return st;
}
