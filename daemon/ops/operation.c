/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 *   SEND_DA (DA1) -> JUMP_DA -> backend start (further stages, storage
 *   report) -> partition table (scatter file, GPT, vendor table) -> the
 *   concrete operation -> reboot -> the Job ends.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mtknv-bus.h"
#include "operation.h"

/* The GPT header and 128 entries fit in the first 0x4400 bytes; read a
 * little more so a 4 KiB-sector layout is covered too. */
#define GPT_READ_LEN 0x8000u
#define TABLE_READ_ATTEMPTS 3
/* A DA switching to high speed re-enumerates within 2-4 s (xflash.md §9.4:
 * mtkclient's session went on about 4 s later); a phone not back by then
 * is not coming. */
#define OPERATION_RETURN_USEC (10ULL * 1000000ULL)

static int unhex(const char *hex, uint8_t *out, size_t max) {
        size_t n = 0;

        for (; hex[0] && hex[1] && n < max; hex += 2) {
                unsigned v;

                if (sscanf(hex, "%2x", &v) != 1)
                        return -EINVAL;
                out[n++] = (uint8_t) v;
        }
        return (int) n;
}

/* 0 when nothing is known of this phone's memory or a stored preloader fits
 * it; 1 (with the error) when the newest bound backup's eMMC CID fits none. */
static int operation_known_memory_fits(const OperationContext *ctx, const BromIdentity *id, const PreloaderSet *set,
                                       const char **ret_name, char **ret_message) {
        _cleanup_free_ char *key = NULL;
        BackupInfo *infos = NULL;
        const BackupInfo *newest = NULL;
        uint8_t cid[EMI_ID_MAX];
        size_t n = 0;
        int len, r;

        if (!ctx->store || (id->me_id_len == 0 && id->soc_id_len == 0) || device_make_id(id, "", &key) < 0 ||
            backup_store_list(ctx->store, key, &infos, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (backup_info_is_bound(&infos[i]) && infos[i].manifest->emmc_cid[0] &&
                    (!newest || infos[i].manifest->created_usec > newest->manifest->created_usec))
                        newest = &infos[i];
        len = newest ? unhex(newest->manifest->emmc_cid, cid, sizeof(cid)) : -1;
        r = 0;
        if (len > 0) {
                r = 1;
                for (size_t i = 0; i < set->n && r; i++)
                        if (emi_block_find_record(&set->items[i].emi, cid, (size_t) len) >= 0)
                                r = 0;
        }
        if (r > 0) {
                *ret_name = MTKNV_ERROR_PRELOADER_NEEDED;
                if (asprintf(ret_message, "The phone is in BROM mode, and none of the %zu stored preloader%s for the "
                             "%s (EMI version %d) has DRAM settings for its memory (eMMC CID %s, from its backup "
                             "%s), so nothing was sent to the phone. Add the preloader of this phone's own firmware "
                             "('mtknvctl add-firmware DIR' or 'mtknvctl add-preloader preloader_<board>.bin') and "
                             "plug it in again; or power it off and plug it in without holding any key, so that "
                             "it starts in preloader mode.", set->n, set->n == 1 ? "" : "s", id->chip->name,
                             id->chip->emi_version, newest->manifest->emmc_cid, newest->backup_id) < 0)
                        r = -ENOMEM;
        }
        backup_info_array_free(infos, n);
        return r;
}

/* brom-emi.md §1, §5: in BROM mode nobody has set up the DRAM, and DA1
 * asks for the settings of the phone's own preloader.  Refusing before
 * SEND_DA when no stored preloader can have them leaves the phone in its
 * boot ROM (which the caller resets) instead of a DA1 that waits with the
 * watchdog off.  0: go on (*ret_set the candidates when asked for). */
static int operation_check_brom(const OperationContext *ctx, const BromIdentity *id, const char **ret_name,
                                char **ret_message, PreloaderSet *ret_set) {
        const DaBackend *b = da_backend_for_chip(id->chip, &(const char *) { NULL });
        PreloaderSet set = {};
        int version = id->chip->emi_version, r;

        if (b && !b->supports_emi_version) {
                /* brom-emi.md §8: the family has no way to give its DA the DRAM settings */
                *ret_name = MTKNV_ERROR_NOT_SUPPORTED;
                r = asprintf(ret_message, "The phone is in BROM mode (it was plugged in with a volume key held). The "
                             "%s's Download Agent (the %s family) starts only in preloader mode. Nothing was sent to "
                             "the phone. Power it off and plug it in again without holding any key, so that it starts "
                             "in preloader mode.", id->chip->name, b->name);
                return r < 0 ? -ENOMEM : 1;
        }
        if (!da_backend_supports_emi_version(b, version)) {
                *ret_name = MTKNV_ERROR_NOT_SUPPORTED;
                r = asprintf(ret_message, "The phone is in BROM mode (it was plugged in with a volume key held). There "
                             "its Download Agent needs the phone's DRAM settings, and mtknvd cannot give them to the "
                             "%s's DA yet (EMI version %s). Nothing was sent to the phone. Power it off and plug it in "
                             "again without holding any key, so that it starts in preloader mode.", id->chip->name,
                             version < 0 ? "unknown" : version == 0 ? "0" : "other than 15-17, 20, 21");
                return r < 0 ? -ENOMEM : 1;
        }
        r = preloader_store_load(ctx->state_dir, version, &set);
        if (r < 0)
                return r;
        if (set.n == 0) {
                *ret_name = MTKNV_ERROR_PRELOADER_NEEDED;
                r = asprintf(ret_message, "The phone is in BROM mode (a volume key was held, or its preloader offers no "
                             "USB download). There its Download Agent needs the DRAM settings of the phone's own "
                             "preloader, and none for the %s (EMI version %d) is stored, so nothing was sent to the "
                             "phone. Add the phone's firmware folder with 'mtknvctl add-firmware DIR' (or its "
                             "preloader_<board>.bin with 'mtknvctl add-preloader FILE') and plug it in again; or power "
                             "it off and plug it in without holding any key, so that it starts in preloader mode.",
                             id->chip->name, version);
                return r < 0 ? -ENOMEM : 1;
        }
        /* A phone backed up before has told us its eMMC CID, the memory id
         * its DA will report (brom-emi.md §4.4): when no stored preloader
         * fits it, DA1 would stop waiting for settings nobody has, so the
         * phone is left in its boot ROM instead. */
        r = operation_known_memory_fits(ctx, id, &set, ret_name, ret_message);
        if (r != 0) {
                preloader_set_done(&set);
                return r;
        }
        if (ret_set)
                *ret_set = set;
        else
                preloader_set_done(&set);
        return 0;
}

int operation_check_supported(const OperationContext *ctx, const BromIdentity *id, const char **ret_name,
                              char **ret_message, DaStoreMatch *ret_da, PreloaderSet *ret_preloaders) {
        DaStoreMatch da = {};
        PreloaderSet set = {};
        const char *why = NULL;
        char *msg = NULL;
        int r;

        if (!id->chip) {
                *ret_name = MTKNV_ERROR_UNKNOWN_CHIP;
                r = asprintf(&msg, "Unknown chip: hw code 0x%04x (sub code 0x%04x, hw version 0x%04x, sw version "
                             "0x%04x) is not in mtknvd's chip table, so it cannot be backed up. Please report these "
                             "values together with the phone's model.",
                             id->hw_code, id->hw_sub_code, id->hw_version, id->sw_version);
        } else if (!da_backend_for_chip(id->chip, &why)) {
                *ret_name = MTKNV_ERROR_NOT_SUPPORTED;
                r = asprintf(&msg, "%s: %s", id->chip->name, why);
        } else if (id->target_config & BROM_TGT_CFG_SLA) {
                *ret_name = MTKNV_ERROR_AUTH_REQUIRED;
                r = asprintf(&msg, "The phone requires serial-link authentication (SLA): the boot ROM accepts a "
                             "Download Agent only after a challenge signed with the manufacturer's key, which "
                             "mtknvd does not have. The manufacturer's service tool (or SP Flash Tool with its "
                             "authentication file) can back it up.");
        } else if (id->is_brom && (r = operation_check_brom(ctx, id, ret_name, &msg, &set)) != 0) {
                if (r < 0)
                        return r;
        } else if (da_store_find(&ctx->da_sources, id->chip->da_code, id->hw_version, id->sw_version, &da) < 0) {
                *ret_name = MTKNV_ERROR_NO_DOWNLOAD_AGENT;
                r = asprintf(&msg, "No Download Agent for %s (DA code 0x%04x, hw version 0x%04x, sw version "
                             "0x%04x) is installed. Add the MTK_AllInOne_DA.bin from the phone's firmware package "
                             "with 'mtknvctl add-da FILE', then plug the phone in again.",
                             id->chip->name, id->chip->da_code, id->hw_version, id->sw_version);
        } else if (id->is_brom && !da_backend_supports_emi_version(da_backend_for_da(id->chip, da.file, &why),
                                                                    id->chip->emi_version)) {
                /* the DA file chose a family that cannot start in BROM mode:
                 * brom-emi.md §8, a V6 DA has no way to be given the DRAM settings */
                *ret_name = MTKNV_ERROR_NOT_SUPPORTED;
                r = asprintf(&msg, "The phone is in BROM mode (it was plugged in with a volume key held), and its "
                             "Download Agent %s is an XML (V6) one, which starts only in preloader mode. Nothing was "
                             "sent to the phone. Power it off and plug it in again without holding any key, so that "
                             "it starts in preloader mode.", da.name);
                da_store_match_done(&da);
        } else {
                if (ret_da)
                        *ret_da = da;
                else
                        da_store_match_done(&da);
                if (ret_preloaders)
                        *ret_preloaders = set;
                else
                        preloader_set_done(&set);
                *ret_name = NULL;
                *ret_message = NULL;
                return 0;
        }
        preloader_set_done(&set);
        if (r < 0)
                return -ENOMEM;
        *ret_message = msg;
        return 1;
}

const char *operation_error_for(int r, const char *other) {
        return r == -ENODEV ? MTKNV_ERROR_DEVICE_GONE : r == -ECANCELED ? MTKNV_ERROR_CANCELLED : other;
}

void operation_set_step(Operation *op, const char *fmt, ...) {
        char step[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(step, sizeof(step), fmt, ap);
        va_end(ap);
        job_set_step(op->job, step);
}

static void operation_drop_preloaders(Operation *op) {
        op->emi = mfree(op->emi);
        preloader_set_done(&op->preloaders);
}

/* The session takes the blocks as an array of pointers. */
static int operation_index_preloaders(Operation *op) {
        if (op->preloaders.n == 0)
                return 0;
        op->emi = calloc(op->preloaders.n, sizeof(EmiBlock *));
        if (!op->emi)
                return -ENOMEM;
        for (size_t i = 0; i < op->preloaders.n; i++)
                op->emi[i] = &op->preloaders.items[i].emi;
        return 0;
}

void operation_done(Operation *op) {
        op->session = da_session_free(op->session);
        partition_table_free(op->table);
        scatter_file_free(op->scatter);
        free(op->gpt);
        free(op->gpt_error);
        free(op->device_key);
        free(op->result);
        da_store_match_done(&op->da);
        operation_drop_preloaders(op);
}

/* ------------------------------------------------------------ the end */

static void operation_end(Operation *op, bool success, const char *error_name, char *message) {
        _cleanup_free_ char *msg = message;
        Device *d = op->device;
        Job *j = op->job;

        if (op->ended)
                return;
        op->ended = true;
        op->job = NULL;
        if (op->class->amend_message)
                op->class->amend_message(op, &msg);
        if (success)
                device_end_operation(d, op->rebooted);
        else
                device_fail_operation(d, error_name ?: MTKNV_ERROR_FAILED, msg ?: "Failed.", op->rebooted);
        if (j) {
                j->cancel = NULL;
                j->userdata = NULL;
                job_complete(j, success, msg ?: (success ? "Done." : "Failed."));
        }
        op->class->free(op);
}

static char *vformat(const char *fmt, va_list ap) {
        char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                return NULL;
        return msg;
}

void operation_fail(Operation *op, const char *error_name, const char *fmt, ...) {
        char *msg;
        va_list ap;

        va_start(ap, fmt);
        msg = vformat(fmt, ap);
        va_end(ap);
        if (op->class->explain_failure && msg)
                op->class->explain_failure(op, &msg);
        if (op->class->drop_work)
                op->class->drop_work(op);
        operation_end(op, false, op->cancelled ? MTKNV_ERROR_CANCELLED : error_name, msg);
}

static void operation_on_rebooted(DaSession *s, int r, void *userdata) {
        Operation *op = userdata;
        char *msg;

        if (r < 0)
                log_warning("The phone did not take the reboot command (%s); unplug it.",
                            s ? da_session_get_detail(s) : strerror(-r));
        op->rebooted = r >= 0;
        msg = TAKE_PTR(op->result);
        if (op->end_error)
                return operation_end(op, false, op->end_error, msg);
        if (op->tell_reboot && msg) {
                /* "nothing was written" does not say the phone left download mode */
                char *full = NULL;

                if (asprintf(&full, "%s %s", msg,
                             r < 0 ? "The phone did not take the reboot command; unplug it to leave download mode."
                                   : "The phone was rebooted; it boots normally.") >= 0) {
                        free(msg);
                        msg = full;
                }
        }
        operation_end(op, true, NULL, msg);
}

/* The end of every session that is still in step: the phone boots
 * normally instead of sitting in a dead-looking download mode. */
static void operation_reboot(Operation *op) {
        int r;

        op->rebooting = true;
        operation_set_step(op, "rebooting the phone");
        /* without a DA session (the phone vanished) there is nobody to tell */
        r = op->session ? da_session_reboot(op->session, operation_on_rebooted, op) : -ENOTCONN;
        if (r < 0)
                operation_on_rebooted(op->session, r, op);
}

void operation_stop(Operation *op, const char *error_name, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        free(op->result);
        op->result = vformat(fmt, ap);
        va_end(ap);
        op->end_error = error_name;
        if (op->class->drop_work)
                op->class->drop_work(op);
        operation_reboot(op);
}

void operation_finish(Operation *op, char *result) {
        free(op->result);
        op->result = result;
        op->end_error = NULL;
        operation_reboot(op);
}

bool operation_end_if_cancelled(Operation *op) {
        if (!op->cancelled)
                return false;
        operation_fail(op, MTKNV_ERROR_CANCELLED,
                       "Cancelled. Nothing was stored. The phone is still in download mode: unplug it.");
        return true;
}

/* What a phone whose DA1 stopped at the DRAM step needs: nobody can tell it
 * to reboot (that is DA2's command), and the watchdog is off. */
#define OPERATION_DA1_WAITS \
        "The phone waits in its Download Agent with the watchdog off: unplug it and hold the power key for about " \
        "ten seconds to switch it off, then plug it in again."

void operation_fail_da(Operation *op, int r, const char *what) {
        const char *detail = op->session ? da_session_get_detail(op->session) : "";
        DaFailure failure = op->session ? da_session_get_failure(op->session) : DA_FAILURE_NONE;
        char msg[512];

        if (operation_end_if_cancelled(op))
                return;
        if (r == -ENOSPC || r == -EDQUOT || r == -EFBIG)
                return operation_fail(op, MTKNV_ERROR_NO_SPACE,
                                      "No space left for the backup in %s: free some space and plug the phone in "
                                      "again. Nothing was stored.", op->ctx->state_dir);
        snprintf(msg, sizeof(msg), "%s", detail && detail[0] ? detail : strerror(-r));
        /* a DA that requires SLA authentication (xflash.md §9.3): not a fault, a limit of mtknvd */
        if (r == -EACCES)
                return operation_fail(op, MTKNV_ERROR_NOT_SUPPORTED, "This phone's Download Agent requires SLA "
                                      "authentication, which mtknvd does not support (%s). Nothing was read or "
                                      "written; back it up with the service tool its manufacturer authorises.", msg);
        switch (failure) {
        case DA_FAILURE_NEEDS_DRAM: {
                size_t id_len = 0;
                const uint8_t *id = op->session ? da_session_get_memory_id(op->session, &id_len) : NULL;
                char hex[2 * EMI_ID_MAX + 1] = "";

                if (id_len == 0)
                        return operation_fail(op, MTKNV_ERROR_PRELOADER_NEEDED, "The phone is in BROM mode and its "
                                              "Download Agent asks for DRAM settings (%s). %s", msg,
                                              OPERATION_DA1_WAITS);
                brom_hex(id, id_len, hex);
                return operation_fail(op, MTKNV_ERROR_PRELOADER_NEEDED,
                                      "The phone is in BROM mode, and none of the %zu stored preloader%s for the %s "
                                      "(EMI version %d) has DRAM settings for the memory its Download Agent reports "
                                      "(memory id %s). Add the preloader of this phone's own firmware ('mtknvctl "
                                      "add-firmware DIR' with the folder that has its scatter file, or 'mtknvctl "
                                      "add-preloader preloader_<board>.bin'). %s", op->preloaders.n,
                                      op->preloaders.n == 1 ? "" : "s", op->device->identity.chip->name,
                                      op->device->identity.chip->emi_version, hex, OPERATION_DA1_WAITS);
        }
        case DA_FAILURE_DRAM:
                return operation_fail(op, MTKNV_ERROR_PRELOADER_NEEDED,
                                      "BROM mode: %s. Nothing was read or written. %s", msg, OPERATION_DA1_WAITS);
        case DA_FAILURE_CHECKSUM:
                return operation_fail(op, MTKNV_ERROR_VERIFY_FAILED,
                                      "Data from the phone kept arriving corrupted (%s). Try another cable or USB "
                                      "port; no backup was stored.", msg);
        case DA_FAILURE_GONE:
        case DA_FAILURE_CANCELLED:
        case DA_FAILURE_REFUSED:
        case DA_FAILURE_PROTOCOL:
        case DA_FAILURE_NONE:
                break;
        }
        if (r == -ENODEV)
                return operation_fail(op, MTKNV_ERROR_DEVICE_GONE, "The phone disconnected during the %s (%s). %s",
                                      op->class->name, msg, op->class->gone_message(op));
        if (r == -ECANCELED)
                return operation_fail(op, MTKNV_ERROR_CANCELLED, "Cancelled (%s). Nothing was stored. The phone is "
                                      "still in download mode: unplug it.", msg);
        if (what)
                return operation_fail(op, MTKNV_ERROR_PROTOCOL_ERROR, "%s failed: %s. Nothing was stored; unplug "
                                      "the phone and plug it in again to retry.", what, msg);
        operation_fail(op, MTKNV_ERROR_PROTOCOL_ERROR, "The %s failed: %s. Nothing was stored; unplug the phone and "
                       "plug it in again to retry.", op->class->name, msg);
}

/* ------------------------------------------------------------ the table */

static void operation_on_vendor_table(DaSession *s, int r, void *userdata) {
        Operation *op = userdata;
        _cleanup_free_ uint8_t *pmt = NULL;
        _cleanup_free_ char *err = NULL;
        size_t len = 0;

        if (r < 0 && r != -ENOENT)
                return operation_fail_da(op, r, "Reading the partition table");
        if (operation_end_if_cancelled(op))
                return;
        if (r < 0 || da_session_take_vendor_table(s, &pmt, &len) < 0 ||
            pmt_parse(pmt, len, op->storage->region_size[STORAGE_REGION_USER], &op->table, &err) < 0)
                return operation_stop(op, MTKNV_ERROR_NO_PARTITIONS,
                                      "The phone has neither a valid GPT (%s) nor a MediaTek PMT (%s). Pass its "
                                      "scatter file with 'mtknvctl backup --scatter FILE'.",
                                      op->gpt_error ?: "?",
                                      err ?: (r < 0 && da_session_get_detail(s)[0] ? da_session_get_detail(s) :
                                                                                    "none"));
        op->class->table_known(op);
}

static void operation_table_from_gpt(Operation *op) {
        _cleanup_free_ char *err = NULL;
        int r;

        r = gpt_parse(op->gpt, op->gpt_len, op->storage->region_size[STORAGE_REGION_USER], &op->table, &err);
        if (r >= 0)
                return op->class->table_known(op);

        free(op->gpt_error);
        op->gpt_error = TAKE_PTR(err);
        if (!da_session_has_vendor_table(op->session))
                return operation_stop(op, MTKNV_ERROR_NO_PARTITIONS,
                                      "The phone has no valid GPT (%s). Pass its scatter file with 'mtknvctl backup "
                                      "--scatter FILE'.", op->gpt_error ?: "?");
        log_info("No usable GPT on %s (%s); asking for the %s DA's own partition table.", op->device->object_path,
                 op->gpt_error ?: "?", op->session->backend->name);
        operation_set_step(op, "reading the partition table (PMT)");
        r = da_session_read_vendor_table(op->session, operation_on_vendor_table, op);
        if (r < 0)
                operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR),
                               "Cannot read the partition table: %s", strerror(-r));
}

static int operation_on_gpt_data(DaSession *s, const uint8_t *data, size_t len, void *userdata) {
        Operation *op = userdata;
        uint8_t *n;

        n = realloc(op->gpt, op->gpt_len + len);
        if (!n)
                return -ENOMEM;
        memcpy(n + op->gpt_len, data, len);
        op->gpt = n;
        op->gpt_len += len;
        return 0;
}

/* Reads the start of the user area for the GPT; done continues. */
static int operation_read_gpt(Operation *op, DaDoneFunc done) {
        uint64_t user = op->storage->region_size[STORAGE_REGION_USER];

        op->gpt = mfree(op->gpt);
        op->gpt_len = 0;
        return da_session_read(op->session, STORAGE_REGION_USER, 0, MIN((uint64_t) GPT_READ_LEN, user),
                               operation_on_gpt_data, done, op);
}

static void operation_on_gpt(DaSession *s, int r, void *userdata) {
        Operation *op = userdata;

        if (r == -EBADMSG && ++op->table_attempt < TABLE_READ_ATTEMPTS && !op->cancelled) {
                log_warning("Checksum error reading the partition table (%s); reading it again.",
                            da_session_get_detail(s));
                r = operation_read_gpt(op, operation_on_gpt);
                if (r >= 0)
                        return;
        }
        if (r < 0)
                return operation_fail_da(op, r, "Reading the partition table");
        if (operation_end_if_cancelled(op))
                return;
        operation_table_from_gpt(op);
}

void operation_find_table(Operation *op) {
        uint64_t user = op->storage->region_size[STORAGE_REGION_USER];
        int r;

        if (op->scatter) {
                _cleanup_free_ char *err = NULL;

                /* a V2.x file: the table of the storage the phone reported */
                r = scatter_file_use_storage(op->scatter, storage_type_to_string(op->storage->type), &err);
                if (r < 0)
                        return operation_stop(op, MTKNV_ERROR_INVALID_ARGS, "The scatter file cannot be used for "
                                              "this phone: %s.", err ?: strerror(-r));
                r = scatter_file_resolve(op->scatter, user);
                if (r < 0)
                        return operation_stop(op, MTKNV_ERROR_INVALID_ARGS, "The scatter file does not fit this "
                                              "phone's storage (%" PRIu64 " bytes).", user);
                op->table = scatter_file_take_table(op->scatter);
                return op->class->table_known(op);
        }
        operation_set_step(op, "reading the partition table");
        op->table_attempt = 0;
        r = operation_read_gpt(op, operation_on_gpt);
        if (r < 0)
                operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR),
                               "Cannot read the partition table: %s", strerror(-r));
}

/* ------------------------------------------------------------ the start */

/* The DA runs, on the link it stays on. */
static void operation_on_da_ready(Operation *op, DaSession *s) {
        int r;

        op->storage = da_session_get_storage(s);
        r = device_backup_key(op->device, op->storage->id, op->storage->id_len, &op->device_key);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Out of memory");
        op->class->started(op);
}

/* The remedy of every failed comeback: in preloader mode the DA runs at
 * high speed from the start, and nothing has to re-enumerate. */
#define OPERATION_RETURN_REMEDY \
        "Nothing was read or written. Unplug the phone, hold the power key for about ten seconds to switch it " \
        "off, and plug it in again without holding any key, so that it starts in preloader mode."

static void operation_on_returned(Device *d, int r, void *userdata) {
        Operation *op = userdata;
        uint32_t id = da_session_get_returns_as(op->session);

        if (operation_end_if_cancelled(op))
                return;
        if (r == -ETIMEDOUT)
                return operation_fail(op, MTKNV_ERROR_DEVICE_GONE, "The phone did not come back after switching to "
                                      "high-speed USB: its Download Agent left the bus and was not back on USB %s "
                                      "as %04x:%04x within %llu s. %s", d->usb_path, id >> 16, id & 0xffffu,
                                      OPERATION_RETURN_USEC / 1000000ULL, OPERATION_RETURN_REMEDY);
        if (r == -EMEDIUMTYPE)
                return operation_fail(op, MTKNV_ERROR_PROTOCOL_ERROR, "The phone restarted while switching to "
                                      "high-speed USB: it came back as %04x:%04x instead of its Download Agent "
                                      "(%04x:%04x). %s", d->vid, d->pid, id >> 16, id & 0xffffu,
                                      OPERATION_RETURN_REMEDY);
        if (r < 0)
                return operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR), "The phone came back "
                                      "after switching to high-speed USB, but cannot be opened (%s). %s",
                                      strerror(-r), OPERATION_RETURN_REMEDY);
        r = da_session_relink(op->session, d->link);
        if (r < 0)
                return operation_fail(op, MTKNV_ERROR_FAILED, "Cannot continue the %s on the phone's new USB link: "
                                      "%s", op->class->name, strerror(-r));
        log_info("Phone %s is back at high speed (%04x:%04x, %u-byte packets).", d->object_path, d->vid, d->pid,
                 usb_link_max_packet(d->link));
        operation_on_da_ready(op, op->session);
}

/* The DA leaves the bus and comes back (a switch to high speed): the
 * session lets go of the old link, which the device frees when the phone
 * leaves, and the operation waits for the new one. */
static void operation_await_return(Operation *op) {
        uint32_t id = da_session_get_returns_as(op->session);
        int r;

        operation_set_step(op, "switching to high-speed USB");
        r = da_session_relink(op->session, NULL);
        if (r >= 0)
                r = device_expect_return(op->device, id, OPERATION_RETURN_USEC, operation_on_returned, op);
        if (r < 0)
                operation_fail(op, operation_error_for(r, MTKNV_ERROR_FAILED), "Cannot wait for the phone to come "
                               "back at high speed: %s. %s", strerror(-r), OPERATION_RETURN_REMEDY);
}

static void operation_on_da_started(DaSession *s, int r, void *userdata) {
        Operation *op = userdata;

        if (r < 0)
                return operation_fail_da(op, r, NULL);
        if (operation_end_if_cancelled(op))
                return;
        if (da_session_get_returns_as(s) != 0)
                return operation_await_return(op);
        operation_on_da_ready(op, s);
}

static void operation_fail_brom(Operation *op, BromSession *s, int r) {
        const char *detail = brom_session_get_detail(s);

        if (brom_session_get_failure(s) == BROM_FAILURE_REFUSED)
                return operation_fail(op, MTKNV_ERROR_DA_REJECTED,
                                      "The phone refused the Download Agent from %s (%s). SP Flash Tool reports "
                                      "this as 0xC0060003 \"Brom cmd send da failed\". The phone probably enforces "
                                      "a signed DA (secure boot/DAA) or needs the manufacturer's authorisation "
                                      "(SLA): use the DA from this phone's own firmware package (mtknvctl add-da "
                                      "FILE).", op->da.name, detail);
        operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR),
                       r == -ENODEV ? "The phone disconnected while the Download Agent was being sent (%s). Plug it "
                                      "in again to retry." :
                                      "Sending the Download Agent failed: %s. Unplug the phone and plug it in again.",
                       detail);
}

static void operation_on_jump_da(BromSession *s, int r, void *userdata) {
        Operation *op = userdata;
        const DaBackend *backend;
        const char *why;

        if (operation_end_if_cancelled(op))
                return;
        if (r < 0)
                return operation_fail_brom(op, s, r);
        operation_set_step(op, "starting the Download Agent");
        /* the DA file chosen may decide the family (a V6 file speaks XML) */
        backend = da_backend_for_da(op->device->identity.chip, op->da.file, &why);
        r = backend ? da_session_new(backend, op->device->link, &op->device->identity, &op->session) : -EOPNOTSUPP;
        if (r >= 0 && op->preloaders.n > 0)
                da_session_set_emi(op->session, op->device->identity.chip->emi_version, op->emi, op->preloaders.n);
        if (r >= 0)
                r = da_session_start(op->session, op->da.file, op->da.entry, operation_on_da_started, op);
        if (r < 0)
                operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR), "Cannot continue the %s: %s",
                               op->class->name, strerror(-r));
}

static void operation_on_send_da(BromSession *s, int r, void *userdata) {
        Operation *op = userdata;
        const DaRegion *region;
        const uint8_t *data;

        if (operation_end_if_cancelled(op))
                return;
        if (r < 0)
                return operation_fail_brom(op, s, r);
        r = da_entry_get_stage(op->da.file, op->da.entry, 1, &data, &region);
        if (r >= 0)
                r = brom_session_jump_da(s, region->start_addr, operation_on_jump_da, op);
        if (r < 0)
                operation_fail(op, operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR), "Cannot continue the %s: %s",
                               op->class->name, strerror(-r));
}

static int operation_on_cancel(Job *j, void *userdata) {
        Operation *op = userdata;

        if (op->rebooting)
                return -EBUSY;
        op->cancelled = true;
        if (op->session)
                da_session_cancel(op->session);
        else if (op->device->brom)
                brom_session_cancel(op->device->brom);
        return 0;
}

/* The phone vanished: end now, before the device frees the link. */
static void operation_on_device_gone(const char *error_name, const char *message, void *userdata) {
        Operation *op = userdata;

        op->session = da_session_free(op->session);
        /* The work was done and the reboot command on its way: a phone that
         * leaves now is rebooting.  An XML DA resets as soon as it has our
         * last OK (xml-da.md §5.5), and the phone's leaving may be seen
         * before that OK's completion is. */
        if (op->rebooting && !message) {
                log_debug("The phone left the bus while being rebooted: taken as rebooted.");
                return operation_on_rebooted(NULL, 0, op);
        }
        if (message)
                return operation_fail(op, error_name, "%s", message);
        operation_fail(op, error_name, "The phone was unplugged during the %s. %s", op->class->name,
                       op->class->gone_message(op));
}

int operation_start(Operation *op, const OperationClass *class, const OperationContext *ctx, Device *d,
                    ScatterFile *scatter, uid_t uid, Job *job, sd_bus_error *error) {
        _cleanup_free_ char *why = NULL;
        const DaRegion *region;
        const uint8_t *data;
        const char *why_name;
        Job *given = job;
        char msg[256];
        int r;

        if (!d->present || d->state != DEVICE_READY || !d->brom || !d->link)
                return sd_bus_error_setf(error, MTKNV_ERROR_BUSY,
                                         "The phone is %s; a %s needs a phone that is connected and identified "
                                         "(State \"ready\").", device_state_to_string(d->state), class->name);
        r = operation_check_supported(ctx, &d->identity, &why_name, &why, &op->da, &op->preloaders);
        if (r < 0)
                return r;
        if (r > 0)
                return sd_bus_error_setf(error, why_name, "%s", why);
        r = operation_index_preloaders(op);
        if (r < 0) {
                da_store_match_done(&op->da);
                operation_drop_preloaders(op);
                return r;
        }
        r = da_entry_get_stage(op->da.file, op->da.entry, 1, &data, &region);
        if (r < 0) {
                r = sd_bus_error_setf(error, MTKNV_ERROR_INVALID_FILE, "The Download Agent %s has no first stage "
                                      "for this phone.", op->da.name);
                da_store_match_done(&op->da);
                operation_drop_preloaders(op);
                return r;
        }
        if (job)
                job_set_device(job, d->object_path);
        else {
                r = ctx->new_job(class->name, d->object_path, uid, ctx->userdata, &job);
                if (r < 0) {
                        da_store_match_done(&op->da);
                        operation_drop_preloaders(op);
                        return r;
                }
        }
        op->class = class;
        op->ctx = ctx;
        op->device = d;
        op->job = job;
        job->cancel = operation_on_cancel;
        job->userdata = op;
        device_begin_operation(d, job, operation_on_device_gone, op);

        operation_set_step(op, "sending the Download Agent");
        r = brom_session_send_da(d->brom, region->start_addr, data, region->length, region->sig_len,
                                 operation_on_send_da, op);
        if (r < 0) {
                /* Ownership passes on success only: the caller's inputs, and
                 * a job it handed in, stay the caller's. */
                const char *name = operation_error_for(r, MTKNV_ERROR_PROTOCOL_ERROR), *detail;

                detail = brom_session_get_detail(d->brom);
                if (r == -ENODEV)
                        snprintf(msg, sizeof(msg), "The phone disconnected before the Download Agent could be "
                                 "sent. Plug it in again to retry.");
                else
                        snprintf(msg, sizeof(msg), "Cannot send the Download Agent (%s). Unplug the phone and plug "
                                 "it in again.", r == -EOPNOTSUPP && detail && detail[0] ? detail : strerror(-r));
                job->cancel = NULL;
                job->userdata = NULL;
                op->job = NULL;
                da_store_match_done(&op->da);
                operation_drop_preloaders(op);
                if (!given)
                        job_complete(job, false, msg);
                device_fail_operation(d, name, msg, false);
                return sd_bus_error_setf(error, name, "%s", msg);
        }
        op->scatter = scatter;
        return 0;
}
