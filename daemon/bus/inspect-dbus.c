/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip-table.h"
#include "da-backend.h"
#include "inspect-dbus.h"
#include "macro.h"
#include "storage.h"

/* Where mtknvd can give a preloader's DRAM settings to a DA (brom-emi.md §5). */
#define PRELOADER_USABLE_WHY "mtknvd can give these DRAM settings to a phone of this chip in BROM mode"
#define PRELOADER_UNUSABLE_WHY \
        "mtknvd cannot give DRAM settings of this EMI version to a Download Agent yet (BROM mode needs a " \
        "legacy DA chip with EMI version 15-17, 20 or 21)"

static int dict_s(sd_bus_message *m, const char *key, const char *v) {
        return sd_bus_message_append(m, "{sv}", key, "s", v ?: "");
}

static int dict_b(sd_bus_message *m, const char *key, bool v) {
        return sd_bus_message_append(m, "{sv}", key, "b", (int) v);
}

static int dict_q(sd_bus_message *m, const char *key, uint16_t v) {
        return sd_bus_message_append(m, "{sv}", key, "q", v);
}

static int dict_u(sd_bus_message *m, const char *key, uint32_t v) {
        return sd_bus_message_append(m, "{sv}", key, "u", v);
}

static int dict_t(sd_bus_message *m, const char *key, uint64_t v) {
        return sd_bus_message_append(m, "{sv}", key, "t", v);
}

/* key => aa{sv}: opens the list; each element is then an a{sv} */
static int dict_open_list(sd_bus_message *m, const char *key) {
        int r = sd_bus_message_open_container(m, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        return r;
}

static int dict_close_list(sd_bus_message *m) {
        int r = sd_bus_message_close_container(m);

        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ------------------------------------------------------------ Download Agents */

/* A DA entry is keyed by the chip's DA code (brom.md §6.3), not its hw code. */
static const ChipInfo *chip_for_da_code(uint16_t da_code, unsigned *idx) {
        for (; *idx < chip_table_size(); (*idx)++) {
                const ChipInfo *c = chip_table_get(*idx);

                if (c->da_code == da_code) {
                        (*idx)++;
                        return c;
                }
        }
        return NULL;
}

/* Whether this mtknvd can use the entry, and why (not): da_backend_for_entry()
 * for the chips of its DA code, the first that can; the chip it is about. */
static bool da_entry_usable(const DaFile *f, const DaEntry *e, const ChipInfo **ret_chip, const char **ret_why) {
        unsigned idx = 0;
        const ChipInfo *c = chip_for_da_code(e->hw_code, &idx), *first = c;
        const char *why = NULL, *first_why = NULL;

        for (; c; c = chip_for_da_code(e->hw_code, &idx)) {
                const DaBackend *b = da_backend_for_entry(f, e, c, &why);
                DaMode mode = DA_MODE_LEGACY;

                if (b) {
                        (void) da_entry_family(f, c, &mode);
                        *ret_chip = c;
                        switch (mode) {
                        case DA_MODE_LEGACY:
                                *ret_why = "mtknvd speaks the legacy Download Agent protocol this entry needs";
                                break;
                        case DA_MODE_XFLASH:
                                *ret_why = "mtknvd speaks the XFlash (V5) Download Agent protocol this entry needs";
                                break;
                        case DA_MODE_XML:
                                *ret_why = "mtknvd speaks the XML (V6) Download Agent protocol this entry needs (in preloader mode)";
                                break;
                        }
                        return true;
                }
                if (!first_why)
                        first_why = why;
        }
        *ret_chip = first;
        if (first)
                *ret_why = first_why;
        else
                *ret_why = da_entry_has_stages(e) ? "no chip in mtknvd's chip table has this DA code"
                                                  : "no chip in mtknvd's chip table has this DA code, and the entry "
                                                    "lacks the DA1 and DA2 stages a phone is sent";
        return false;
}

/* The family the entry needs: its machine name and its name for people. */
static const char *da_entry_mode(const DaFile *f, const ChipInfo *c) {
        DaMode mode;

        return da_entry_family(f, c, &mode) ? da_mode_to_string(mode) : "unknown";
}

static const char *da_entry_protocol(const DaFile *f, const ChipInfo *c) {
        DaMode mode;

        if (!da_entry_family(f, c, &mode))
                return "unknown";
        switch (mode) {
        case DA_MODE_LEGACY: return "legacy";
        case DA_MODE_XFLASH: return "XFlash (V5)";
        case DA_MODE_XML:    return "XML (V6)";
        }
        return "unknown";
}

/* DA1 (region 1) carries its signature at its end (brom.md §6.4). */
static uint32_t da_entry_sig_len(const DaEntry *e) {
        return e->region_count > 1 ? e->regions[1].sig_len : 0;
}

static const char *da_signature_to_string(DaSignature s) {
        switch (s) {
        case DA_SIGNATURE_NONE:     return "unsigned";
        case DA_SIGNATURE_OEM_LIKE: return "oem-like";
        case DA_SIGNATURE_UNUSUAL:  return "unusual";
        }
        return "unusual";
}

/* What the signatures show, and no more (da-file.h). */
static int da_signature_reason(const DaEntry *e, char **ret) {
        uint32_t da1 = da_entry_sig_len(e), da2 = e->region_count > 2 ? e->regions[2].sig_len : 0;
        int r = -EINVAL;

        switch (da_entry_signature(e)) {
        case DA_SIGNATURE_NONE:
                r = asprintf(ret, "no: DA1 carries no signature, so a phone with DA authentication (DAA) refuses "
                             "it; phones without DAA run it");
                break;
        case DA_SIGNATURE_OEM_LIKE:
                r = asprintf(ret, "looks so: DA1 and DA2 end in 256-byte (RSA-2048) signatures, as a phone maker's DA "
                             "for a phone with DAA must; whose key made them is not in the file (MediaTek signs "
                             "its own DAs the same way): only such a phone can tell");
                break;
        case DA_SIGNATURE_UNUSUAL:
                r = asprintf(ret, "unclear: DA1 ends in a %" PRIu32 "-byte signature and DA2 in a %" PRIu32 "-byte "
                             "one, not the 256-byte (RSA-2048) signatures on both stages of every signed DA known",
                             da1, da2);
                break;
        }
        return r < 0 ? -ENOMEM : 0;
}

static bool chip_for_da_code_exists(uint16_t da_code) {
        unsigned idx = 0;

        return chip_for_da_code(da_code, &idx) != NULL;
}

bool inspect_da_usable(const DaFile *f) {
        for (uint32_t i = 0; i < f->n_entries; i++) {
                const ChipInfo *c;
                const char *why;

                if (da_entry_usable(f, &f->entries[i], &c, &why))
                        return true;
        }
        return false;
}

int inspect_da_chips(const DaFile *f, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&s, &len);

        if (!out)
                return -ENOMEM;
        for (uint32_t i = 0; i < f->n_entries; i++) {
                uint16_t code = f->entries[i].hw_code;
                unsigned idx = 0;

                for (const ChipInfo *c = chip_for_da_code(code, &idx); c; c = chip_for_da_code(code, &idx))
                        fprintf(out, "%s%s (0x%04x)", ftell(out) > 0 ? ", " : "", c->name, c->hw_code);
                if (!chip_for_da_code_exists(code))
                        fprintf(out, "%sDA code 0x%04x", ftell(out) > 0 ? ", " : "", code);
        }
        if (fclose(out) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

static int inspect_append_da_entry(sd_bus_message *m, const DaFile *f, const DaEntry *e) {
        _cleanup_free_ char *sig_why = NULL;
        const ChipInfo *c;
        const char *why;
        bool usable = da_entry_usable(f, e, &c, &why);
        unsigned idx = 0;
        int r;

        r = da_signature_reason(e, &sig_why);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = dict_q(m, "da_code", e->hw_code);
        /* the chips of this DA code: their names and boot-ROM hw codes */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "chips");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "aa{sv}");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (const ChipInfo *k = chip_for_da_code(e->hw_code, &idx); r >= 0 && k;
             k = chip_for_da_code(e->hw_code, &idx))
                r = sd_bus_message_append(m, "a{sv}", 3, "name", "s", k->name, "hw_code", "q", k->hw_code,
                                          "description", "s", k->description ?: "");
        if (r >= 0)
                r = dict_close_list(m);
        if (r >= 0)
                r = dict_q(m, "hw_sub_code", e->hw_sub_code);
        if (r >= 0)
                r = dict_q(m, "hw_version", e->hw_version);
        if (r >= 0)
                r = dict_q(m, "sw_version", e->sw_version);
        if (r >= 0)
                r = dict_q(m, "pagesize", e->pagesize);
        if (r >= 0)
                r = dict_s(m, "da_mode", da_entry_mode(f, c));
        if (r >= 0)
                r = dict_s(m, "protocol", da_entry_protocol(f, c));
        if (r >= 0)
                r = dict_b(m, "usable", usable);
        if (r >= 0)
                r = dict_s(m, "usable_reason", why);
        if (r >= 0)
                r = dict_b(m, "signed", da_entry_sig_len(e) > 0);
        if (r >= 0)
                r = dict_s(m, "oem_signature", da_signature_to_string(da_entry_signature(e)));
        if (r >= 0)
                r = dict_s(m, "oem_signature_reason", sig_why);
        if (r >= 0)
                r = dict_open_list(m, "regions");
        for (unsigned k = 0; r >= 0 && k < e->region_count && k < DA_REGIONS_MAX; k++) {
                const DaRegion *g = &e->regions[k];

                r = sd_bus_message_append(m, "a{sv}", 4, "offset", "u", g->offset, "length", "u", g->length,
                                          "start_addr", "u", g->start_addr, "sig_len", "u", g->sig_len);
        }
        if (r >= 0)
                r = dict_close_list(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static const char *all_some_none(unsigned n, unsigned of) {
        return n == 0 ? "none" : n == of ? "all" : "some";
}

int inspect_append_da(sd_bus_message *m, const DaFile *f) {
        unsigned n_signed = 0, n_oem = 0;
        bool usable = inspect_da_usable(f);
        int r;

        for (uint32_t i = 0; i < f->n_entries; i++) {
                n_signed += da_entry_sig_len(&f->entries[i]) > 0;
                n_oem += da_entry_signature(&f->entries[i]) == DA_SIGNATURE_OEM_LIKE;
        }
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = dict_s(m, "kind", "download-agent");
        if (r >= 0)
                r = dict_s(m, "description", f->description);
        if (r >= 0)
                r = dict_s(m, "identifier", f->identifier);
        if (r >= 0)
                r = dict_u(m, "info_version", f->info_version);
        if (r >= 0)
                r = dict_s(m, "format", f->v6 ? "v6" : f->old_format ? "v5-old" : "v5");
        if (r >= 0)
                r = dict_b(m, "usable", usable);
        if (r >= 0)
                r = dict_s(m, "usable_reason",
                           usable ? "it has an entry for a chip whose Download Agent mtknvd speaks"
                                  : "none of its entries is one mtknvd can use (see each entry)");
        /* The key a signature was made with is not in the file: a signed
         * DA may be MediaTek's generic one or a phone maker's (DAA). */
        if (r >= 0)
                r = dict_s(m, "signature", all_some_none(n_signed, f->n_entries));
        /* how many entries look OEM-signed (da_entry_signature()) */
        if (r >= 0)
                r = dict_s(m, "oem_signature", all_some_none(n_oem, f->n_entries));
        if (r >= 0)
                r = dict_open_list(m, "entries");
        for (uint32_t i = 0; r >= 0 && i < f->n_entries; i++)
                r = inspect_append_da_entry(m, f, &f->entries[i]);
        if (r >= 0)
                r = dict_close_list(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ------------------------------------------------------------ scatter files */

/* "partitions": one table's entries. */
static int inspect_append_scatter_partitions(sd_bus_message *m, const ScatterEntry *entries, size_t n,
                                             char **identity_set) {
        int r = dict_open_list(m, "partitions");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                const ScatterEntry *e = &entries[i];

                r = sd_bus_message_open_container(m, 'a', "{sv}");
                if (r >= 0)
                        r = dict_s(m, "name", e->name);
                if (r >= 0)
                        r = dict_s(m, "region", storage_region_to_string(e->region));
                /* a reserved entry is placed from the end once the device's size is known */
                if (r >= 0 && e->resolved)
                        r = dict_t(m, "offset", e->offset);
                if (r >= 0)
                        r = dict_b(m, "end_relative", !e->resolved);
                if (r >= 0)
                        r = dict_t(m, "size", e->size);
                if (r >= 0)
                        r = dict_b(m, "identity", scatter_entry_is_identity(e, identity_set));
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = dict_close_list(m);
        return r;
}

/* The scatter's own keys, without the dictionary around them. */
static int inspect_append_scatter_keys(sd_bus_message *m, const ScatterFile *s, char **identity_set) {
        const ChipInfo *c = chip_table_lookup_name(s->platform);
        unsigned n_identity = 0;
        int r;

        for (size_t i = 0; i < s->n_entries; i++)
                n_identity += scatter_entry_is_identity(&s->entries[i], identity_set);
        r = dict_s(m, "config_version", s->config_version);
        /* the same tables in either spelling: the text one or MTxxxx_Android_scatter.xml */
        if (r >= 0)
                r = dict_s(m, "syntax", s->xml ? "xml" : "text");
        if (r >= 0)
                r = dict_s(m, "platform", s->platform);
        if (r >= 0 && c)
                r = dict_q(m, "hw_code", c->hw_code);
        if (r >= 0)
                r = dict_s(m, "storage", s->storage);
        if (r >= 0)
                r = dict_b(m, "usable", n_identity > 0);
        if (r >= 0)
                r = dict_s(m, "usable_reason",
                           n_identity > 0 ? "it locates identity partitions: 'mtknvctl backup --scatter' can back "
                                            "up a phone without a GPT with it"
                                          : "it locates none of the identity partitions mtknvd backs up");
        if (r >= 0)
                r = inspect_append_scatter_partitions(m, s->entries, s->n_entries, identity_set);
        /* a V2.x file: every storage's table, the phone's is chosen when it is known */
        if (r >= 0 && s->n_tables > 0) {
                r = dict_open_list(m, "storages");
                for (size_t i = 0; r >= 0 && i < s->n_tables; i++) {
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                        if (r >= 0)
                                r = dict_s(m, "storage", s->tables[i].storage);
                        if (r >= 0)
                                r = inspect_append_scatter_partitions(m, s->tables[i].entries, s->tables[i].n_entries,
                                                                      identity_set);
                        if (r >= 0)
                                r = sd_bus_message_close_container(m);
                }
                if (r >= 0)
                        r = dict_close_list(m);
        }
        return r;
}

int inspect_append_scatter(sd_bus_message *m, const ScatterFile *s, char **identity_set) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        if (r >= 0)
                r = dict_s(m, "kind", "scatter");
        if (r >= 0)
                r = inspect_append_scatter_keys(m, s, identity_set);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int inspect_append_spflash_export(sd_bus_message *m, const char *dir, const char *scatter_name,
                                  const ScatterFile *s, const char *why, char **identity_set) {
        size_t l = strlen(dir);
        _cleanup_free_ char *backup_id = strndup(dir, l > 8 ? l - 8 : l); /* "<id>-spflash" */
        int r;

        if (!backup_id)
                return -ENOMEM;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = dict_s(m, "kind", "spflash-export");
        if (r >= 0)
                r = dict_s(m, "backup_id", backup_id);
        if (r >= 0)
                r = dict_s(m, "scatter_file", scatter_name);
        if (r >= 0 && s)
                r = inspect_append_scatter_keys(m, s, identity_set);
        if (r >= 0 && !s)
                r = dict_b(m, "usable", false);
        if (r >= 0 && !s)
                r = dict_s(m, "usable_reason", why);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ------------------------------------------------------------ preloaders */

/* Whether some chip whose preloaders have this EMI version can be backed up
 * in BROM mode by this mtknvd. */
bool inspect_preloader_usable(unsigned version) {
        for (unsigned i = 0; i < chip_table_size(); i++) {
                const ChipInfo *c = chip_table_get(i);
                const char *why;

                if (c->emi_version >= 0 && (unsigned) c->emi_version == version &&
                    da_backend_supports_emi_version(da_backend_for_chip(c, &why), c->emi_version))
                        return true;
        }
        return false;
}

int inspect_append_preloader(sd_bus_message *m, const EmiBlock *emi) {
        bool usable = inspect_preloader_usable(emi->version);
        char hex[2 * EMI_ID_MAX + 1];
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = dict_s(m, "kind", "preloader");
        if (r >= 0)
                r = dict_s(m, "form", preloader_form_to_string(emi->form));
        if (r >= 0)
                r = dict_s(m, "file_name", emi->file_name);
        if (r >= 0)
                r = dict_u(m, "emi_version", emi->version);
        if (r >= 0)
                r = dict_s(m, "chips", emi_version_chips(emi->version));
        if (r >= 0)
                r = dict_b(m, "usable", usable);
        if (r >= 0)
                r = dict_s(m, "usable_reason", usable ? PRELOADER_USABLE_WHY : PRELOADER_UNUSABLE_WHY);
        if (r >= 0)
                r = dict_t(m, "offset", emi->offset);
        if (r >= 0)
                r = dict_t(m, "record_size", emi->record_size);
        if (r >= 0)
                r = dict_open_list(m, "records");
        for (unsigned i = 0; r >= 0 && i < emi->n_records && i < EMI_RECORDS_MAX; i++) {
                const EmiRecord *rec = &emi->record[i];
                unsigned n = MIN(rec->id_len, (uint32_t) EMI_ID_MAX);

                for (unsigned k = 0; k < n; k++)
                        sprintf(hex + 2 * k, "%02x", rec->id[k]);
                hex[2 * n] = 0;
                r = sd_bus_message_append(m, "a{sv}", 4, "type", "u", rec->type, "dram", "s",
                                          emi_dram_type_to_string(rec->type), "id_length", "u", rec->id_len,
                                          "memory_id", "s", hex);
        }
        if (r >= 0)
                r = dict_close_list(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ------------------------------------------------------------ backup archives */

int inspect_append_archive(sd_bus_message *m, const Manifest *mf, const char *why) {
        char hex[65];
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = dict_s(m, "kind", "backup-archive");
        if (r >= 0)
                r = dict_b(m, "valid", mf != NULL);
        if (r >= 0)
                r = dict_b(m, "usable", mf != NULL);
        if (r >= 0)
                r = dict_s(m, "usable_reason", mf ? "'mtknvctl import' takes it into the backup store" : why);
        if (r >= 0 && !mf)
                r = dict_s(m, "error", why);
        if (!mf) {
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                return r;
        }
        if (r >= 0)
                r = dict_s(m, "device_key", mf->device_key);
        if (r >= 0)
                r = dict_s(m, "chip", mf->chip);
        if (r >= 0)
                r = dict_q(m, "hw_code", mf->hw_code);
        if (r >= 0)
                r = dict_s(m, "source", mf->source);
        if (r >= 0)
                r = dict_t(m, "created_usec", mf->created_usec);
        if (r >= 0)
                r = dict_b(m, "verified", mf->verified);
        /* bound: a restore onto another phone needs allow-foreign */
        if (r >= 0)
                r = dict_b(m, "bound", mf->me_id[0] != 0);
        if (r >= 0)
                r = dict_open_list(m, "partitions");
        for (size_t i = 0; r >= 0 && i < mf->n_parts; i++) {
                const ManifestPartition *p = &mf->parts[i];

                for (unsigned k = 0; k < 32; k++)
                        sprintf(hex + 2 * k, "%02x", p->sha256[k]);
                r = sd_bus_message_append(m, "a{sv}", 4, "name", "s", p->name, "offset", "t", p->offset, "size",
                                          "t", p->size, "sha256", "s", hex);
        }
        if (r >= 0)
                r = dict_close_list(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}
