/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GPT per UEFI as MediaTek writes it (da.md §5.3): protective MBR, header at
 * LBA 1, 128-byte entries; both CRCs are checked.  The backup header is not
 * needed, so an alternate-header LBA beyond the size the DA reports (a known
 * MediaTek quirk) is tolerated.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "macro.h"
#include "parse-error.h"
#include "partition-table.h"

#define GPT_SECTOR 512u
#define GPT_SECTOR_4K 4096u
#define GPT_HEADER_MIN 92u
#define GPT_ENTRY_MIN 128u
#define GPT_ENTRIES_MAX 1024u

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}
static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | ((uint64_t) le32(p + 4) << 32);
}

int partition_table_new(PartitionSource source, PartitionTable **ret) {
        PartitionTable *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->source = source;
        *ret = t;
        return 0;
}

int partition_table_add(PartitionTable *t, const char *name, StorageRegion region, uint64_t offset, uint64_t size) {
        Partition *n = reallocarray(t->parts, t->n_parts + 1, sizeof(Partition));

        if (!n)
                return -ENOMEM;
        t->parts = n;
        n = &t->parts[t->n_parts++];
        *n = (Partition) { .region = region, .offset = offset, .size = size };
        snprintf(n->name, sizeof(n->name), "%s", name);
        return 0;
}

PartitionTable *partition_table_free(PartitionTable *t) {
        if (!t)
                return NULL;
        free(t->parts);
        free(t);
        return NULL;
}

const char *partition_source_to_string(PartitionSource s) {
        switch (s) {
        case PT_SOURCE_GPT:     return "gpt";
        case PT_SOURCE_PMT:     return "pmt";
        case PT_SOURCE_SCATTER: return "scatter";
        }
        return "unknown";
}

void partition_name_canonical(const char *name, char *buf, size_t size) {
        static const struct {
                const char *alias, *canonical;
        } aliases[] = {
                /* scatter and PMT spellings (da.md §6.2, corpus) */
                { "protect_f", "protect1" }, { "protect_s", "protect2" }, { "pro_info", "proinfo" },
        };
        size_t n = 0;

        if (strncasecmp(name, "__NODL_", 7) == 0)
                name += 7;
        for (; *name && n + 1 < size; name++)
                buf[n++] = (char) tolower((unsigned char) *name);
        buf[n] = 0;
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (streq(buf, aliases[i].alias)) {
                        snprintf(buf, size, "%s", aliases[i].canonical);
                        return;
                }
}

const Partition *partition_table_find(const PartitionTable *t, const char *name) {
        char want[64], have[64];

        partition_name_canonical(name, want, sizeof(want));
        for (size_t i = 0; i < t->n_parts; i++) {
                partition_name_canonical(t->parts[i].name, have, sizeof(have));
                if (streq(want, have))
                        return &t->parts[i];
        }
        return NULL;
}

int partition_table_check_selection(const PartitionTable *t, const Partition *const *sel, size_t n,
                                    char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        for (size_t i = 0; i < n; i++) {
                char want[64], have[64];

                if (sel[i]->size > PARTITION_IDENTITY_SIZE_MAX) {
                        if (ret_error && asprintf(ret_error, "the %s table gives %s %" PRIu64 " bytes, more than an "
                                                  "identity partition has (at most %llu MiB)",
                                                  partition_source_to_string(t->source), sel[i]->name, sel[i]->size,
                                                  PARTITION_IDENTITY_SIZE_MAX >> 20) < 0)
                                *ret_error = NULL;
                        return -EFBIG;
                }
                partition_name_canonical(sel[i]->name, want, sizeof(want));
                for (size_t k = 0; k < t->n_parts; k++) {
                        if (&t->parts[k] == sel[i])
                                continue;
                        partition_name_canonical(t->parts[k].name, have, sizeof(have));
                        if (!streq(want, have))
                                continue;
                        if (ret_error && asprintf(ret_error, "the %s table lists %s twice (\"%s\" at 0x%" PRIx64
                                                  " and \"%s\" at 0x%" PRIx64 "), so which one holds the phone's "
                                                  "identity is ambiguous", partition_source_to_string(t->source),
                                                  want, sel[i]->name, sel[i]->offset, t->parts[k].name,
                                                  t->parts[k].offset) < 0)
                                *ret_error = NULL;
                        return -ENOTUNIQ;
                }
        }
        return 0;
}

int gpt_parse(const uint8_t *data, size_t size, uint64_t user_size, PartitionTable **ret, char **ret_error) {
        _cleanup_(partition_table_freep) PartitionTable *t = NULL;
        const uint8_t *h;
        uint32_t hsize, hcrc, n_entries, entry_size, entries_crc;
        uint64_t entries_lba, first_usable, last_usable;
        uint8_t hdr[GPT_SECTOR];
        size_t entries_len, sector;
        int r;

        if (ret_error)
                *ret_error = NULL;
        /* LBA 1 of 512-byte sectors (eMMC), else of 4096-byte ones (UFS,
         * xflash.md §15.1): the header says which, by where it is */
        if (size >= 2 * GPT_SECTOR && memcmp(data + GPT_SECTOR, "EFI PART", 8) == 0)
                sector = GPT_SECTOR;
        else if (size >= 2 * GPT_SECTOR_4K && memcmp(data + GPT_SECTOR_4K, "EFI PART", 8) == 0)
                sector = GPT_SECTOR_4K;
        else
                return parse_error(ret_error, "no GPT header (\"EFI PART\") at LBA 1");
        h = data + sector;
        hsize = le32(h + 12);
        if (hsize < GPT_HEADER_MIN || hsize > GPT_SECTOR)
                return parse_error(ret_error, "GPT header size %" PRIu32 " is invalid", hsize);
        memcpy(hdr, h, hsize);
        memset(hdr + 16, 0, 4);
        hcrc = (uint32_t) crc32(0, hdr, hsize);
        if (hcrc != le32(h + 16))
                return parse_error(ret_error, "GPT header CRC mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32 ")",
                            le32(h + 16), hcrc);

        first_usable = le64(h + 40);
        last_usable = le64(h + 48);
        entries_lba = le64(h + 72);
        n_entries = le32(h + 80);
        entry_size = le32(h + 84);
        entries_crc = le32(h + 88);
        if (entry_size < GPT_ENTRY_MIN || entry_size > 4096 || entry_size % 8 || n_entries > GPT_ENTRIES_MAX)
                return parse_error(ret_error, "GPT describes %" PRIu32 " entries of %" PRIu32 " bytes", n_entries,
                            entry_size);
        entries_len = (size_t) n_entries * entry_size;
        if (entries_lba == 0 || entries_lba > size / sector ||
            entries_lba * sector + entries_len > size)
                return parse_error(ret_error, "GPT entry array at LBA %" PRIu64 " is outside the %zu bytes read",
                            entries_lba, size);
        if ((uint32_t) crc32(0, data + entries_lba * sector, (uInt) entries_len) != entries_crc)
                return parse_error(ret_error, "GPT entry array CRC mismatch");
        if (user_size > 0 && last_usable >= user_size / sector && first_usable >= last_usable)
                return parse_error(ret_error, "GPT usable range %" PRIu64 "-%" PRIu64 " is invalid", first_usable,
                            last_usable);

        r = partition_table_new(PT_SOURCE_GPT, &t);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n_entries; i++) {
                const uint8_t *e = data + entries_lba * sector + (size_t) i * entry_size;
                static const uint8_t zero[16];
                uint64_t first = le64(e + 32), last = le64(e + 40);
                char name[37];
                size_t k;

                if (memcmp(e, zero, 16) == 0)
                        continue; /* unused entry */
                if (last < first || last >= UINT64_MAX / sector)
                        return parse_error(ret_error, "GPT entry %" PRIu32 " ends before it starts", i + 1);
                if (user_size > 0 && (last + 1) * sector > user_size)
                        return parse_error(ret_error, "GPT entry %" PRIu32 " ends at 0x%" PRIx64 ", beyond the %" PRIu64
                                    "-byte user area", i + 1, (last + 1) * sector, user_size);
                /* UTF-16LE name; MediaTek names are ASCII, anything else becomes '?' */
                for (k = 0; k < 36; k++) {
                        uint16_t c = (uint16_t) (e[56 + 2 * k] | (e[57 + 2 * k] << 8));

                        if (c == 0)
                                break;
                        name[k] = c >= 0x20 && c < 0x7f ? (char) c : '?';
                }
                name[k] = 0;
                if (k == 0)
                        continue;
                r = partition_table_add(t, name, STORAGE_REGION_USER, first * sector,
                                        (last - first + 1) * sector);
                if (r < 0)
                        return r;
        }
        if (t->n_parts == 0)
                return parse_error(ret_error, "the GPT has no partitions");
        *ret = TAKE_PTR(t);
        return 0;
}

int pmt_parse(const uint8_t *data, size_t size, uint64_t user_size, PartitionTable **ret, char **ret_error) {
        _cleanup_(partition_table_freep) PartitionTable *t = NULL;
        size_t entry_size, off = 4;
        uint32_t sig;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (size < 4 + 0x4c)
                return parse_error(ret_error, "the PMT is only %zu bytes", size);
        /* da.md §5.4: signatures PTv1/PTv3 (or the mirrors MPT1/MPT3), LE */
        sig = le32(data);
        if (sig != 0x50547631 && sig != 0x50547633 && sig != 0x4d505431 && sig != 0x4d505433)
                off = 0; /* the DA may hand out the entries without the signature */
        /* entry size heuristic (§2.14): byte 0x48 == FF → 0x60; u64 at 0x48 in 1..9 → 0x58; else 0x4C */
        if (size >= off + 0x50 && data[off + 0x48] == 0xff)
                entry_size = 0x60;
        else if (size >= off + 0x50 && le64(data + off + 0x48) >= 1 && le64(data + off + 0x48) <= 9)
                entry_size = 0x58;
        else
                entry_size = 0x4c;

        r = partition_table_new(PT_SOURCE_PMT, &t);
        if (r < 0)
                return r;
        for (; off + entry_size <= size; off += entry_size) {
                const uint8_t *e = data + off;
                uint64_t psize, poffset;
                char name[65];
                size_t k;

                for (k = 0; k < 64 && e[k]; k++)
                        name[k] = e[k] >= 0x20 && e[k] < 0x7f ? (char) e[k] : '?';
                name[k] = 0;
                if (k == 0)
                        break; /* the table ends at the first empty name */
                if (entry_size == 0x4c) {
                        psize = le32(e + 64);
                        poffset = le32(e + 68);
                } else {
                        psize = le64(e + 64);
                        poffset = le64(e + (entry_size == 0x60 ? 80 : 72));
                }
                /* Assumed (da.md §5.4/5.5): the offsets the DA reports are
                 * positions inside the user area. */
                if (psize == 0 || poffset + psize < poffset || (user_size > 0 && poffset + psize > user_size))
                        continue;
                r = partition_table_add(t, name, STORAGE_REGION_USER, poffset, psize);
                if (r < 0)
                        return r;
        }
        if (t->n_parts == 0)
                return parse_error(ret_error, "the PMT lists no usable partitions");
        *ret = TAKE_PTR(t);
        return 0;
}
