/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * operation_start() when SEND_DA fails at once (issue 11, "Defects"): the
 * phone is unplugged after it was identified, so brom_session_send_da()
 * returns -ENODEV before anything is queued.  Ownership passes on success
 * only: the caller's ScatterFile, the BackupInfo a restore is made from and
 * a Job handed in stay the caller's (the test reads them afterwards and
 * frees them itself, so an operation that took one is a use after free or a
 * double free under ASan, or a job already finished here); a job the
 * operation made itself is completed exactly once; backup_op_start() and
 * restore_op_start() free only what they made (an operation freed through
 * its class on this path is freed twice); the Device is left neither busy
 * nor with an abort hook into the freed operation.
 *
 * Run on its own, the program starts build/mtksim with itself as the
 * command; inside, the Device opens and identifies the simulated phone
 * through the real libusb, exactly as in the daemon.
 */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backup-op.h"
#include "backup-store.h"
#include "brom.h"
#include "da-file.h"
#include "device.h"
#include "job.h"
#include "macro.h"
#include "mtknv-bus.h"
#include "operation.h"
#include "restore-op.h"
#include "scatter.h"
#include "sim-client.h"
#include "tap.h"
#include "usb-transport.h"

#define PHONE "r"
#define SIM_BUS 1

static sd_event *event;

/* ------------------------------------------------------------ mtksim */


/* ------------------------------------------------------------ the keeper */

/* What the manager would be: the Device's and the Jobs' keeper. */
typedef struct Keeper {
        DeviceEnv env;
        UsbContext *usb;
        unsigned identified, released;
        unsigned jobs_made, jobs_finished;
        bool last_success;
        char last_message[512];
        Job *made;                       /* the last job new_job made (freed once it finished) */
} Keeper;

static bool keeper_wants(Device *d, char **ret_reason, void *userdata) {
        *ret_reason = NULL;
        return true;
}

static Device *keeper_settle(Device *d, void *userdata) {
        return d;
}

static void keeper_identified(Device *d, void *userdata) {
        Keeper *k = userdata;

        k->identified++;
}

static void keeper_released(Device *d, void *userdata) {
        Keeper *k = userdata;

        k->released++;
}

static void keeper_expired(Device *d, void *userdata) {
}

static const DeviceEvents keeper_device_events = {
        .wants = keeper_wants,
        .settle = keeper_settle,
        .identified = keeper_identified,
        .released = keeper_released,
        .expired = keeper_expired,
};

static void keeper_job_finished(Job *j, bool success, const char *message, void *userdata) {
        Keeper *k = userdata;

        k->jobs_finished++;
        k->last_success = success;
        snprintf(k->last_message, sizeof(k->last_message), "%s", message ?: "");
        if (j == k->made)
                k->made = NULL;
}

static const JobEvents keeper_job_events = {
        .finished = keeper_job_finished,
};

static int keeper_new_job(const char *operation, const char *device_path, uid_t uid, void *userdata, Job **ret) {
        Keeper *k = userdata;
        int r;

        r = job_new(100 + k->jobs_made, operation, device_path, uid, &keeper_job_events, k, ret);
        if (r < 0)
                return r;
        k->jobs_made++;
        k->made = *ret;
        return 0;
}

static void keeper_committed(const char *device_key, const char *backup_id, Job *job, void *userdata) {
}

/* ------------------------------------------------------------ fixtures */

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
        put16(p, (uint16_t) v);
        put16(p + 2, (uint16_t) (v >> 16));
}

/* A DA container (brom.md §6) with one entry for da_code, any hardware
 * version: regions 0-2, DA1 at 0x200000, DA2 at 0x40000000.  Its bytes
 * never reach the phone here. */
static int write_da(const char *path, uint16_t da_code) {
        size_t len = 0x6c + 0xdc + 0x300;
        _cleanup_free_ uint8_t *d = calloc(1, len);
        uint8_t *e;
        FILE *f;
        bool ok;

        if (!d)
                return -ENOMEM;
        memcpy(d, "MTK_DOWNLOAD_AGENT", 18);
        memcpy(d + 0x20, "MTK_AllInOne_DA_optest", 22);
        put32(d + 0x60, 4);
        put32(d + 0x64, DA_FILE_MAGIC);
        put32(d + 0x68, 1);
        e = d + 0x6c;
        put16(e, DA_ENTRY_MAGIC);
        put16(e + 2, da_code);
        put16(e + 0x12, 3);
        for (unsigned k = 0; k < 3; k++) {
                uint8_t *r = e + 0x14 + 20 * k;

                put32(r, 0x6c + 0xdc + 0x100 * k);
                put32(r + 4, 0x100);
                put32(r + 8, k == 2 ? 0x40000000 : 0x200000);
                put32(r + 16, 0x20);
                memset(d + 0x6c + 0xdc + 0x100 * k, 0xa0 + k, 0x100);
        }
        f = fopen(path, "we");
        if (!f)
                return -errno;
        ok = fwrite(d, 1, len, f) == len;
        return fclose(f) == 0 && ok ? 0 : -EIO;
}

#define SCATTER_PARTITION(index, name, start, size)                                                           \
        "- partition_index: SYS" #index "\r\n  partition_name: " name "\r\n  file_name: NONE\r\n"               \
        "  is_download: false\r\n  type: NORMAL_ROM\r\n  linear_start_addr: " start "\r\n"                      \
        "  physical_start_addr: " start "\r\n  partition_size: " size "\r\n  region: EMMC_USER\r\n"            \
        "  storage: HW_STORAGE_EMMC\r\n  is_reserved: false\r\n  operation_type: INVISIBLE\r\n"                \
        "  reserve: 0x00\r\n"

static const char scatter_text[] =
        "- general: MTK_PLATFORM_CFG\r\n"
        "  info:\r\n"
        "    - config_version: V1.1.2\r\n"
        "      platform: MT6735\r\n"
        "      project: mtknvd-test\r\n"
        "      storage: EMMC\r\n"
        "      boot_channel: MSDC_0\r\n"
        "      block_size: 0x20000\r\n"
        SCATTER_PARTITION(0, "pgpt", "0x0", "0x80000")
        SCATTER_PARTITION(1, "proinfo", "0x80000", "0x300000")
        SCATTER_PARTITION(2, "nvram", "0x380000", "0x500000")
        SCATTER_PARTITION(3, "nvdata", "0x6b00000", "0x2000000");

static ScatterFile *make_scatter(int *tap_failed_) {
        _cleanup_free_ char *err = NULL;
        ScatterFile *s = NULL;

        if (scatter_parse((const uint8_t *) scatter_text, sizeof(scatter_text) - 1, &s, &err) < 0)
                printf("#   scatter: %s\n", err ?: "?");
        CHECK(s);
        return s;
}

/* Runs the loop until *counter reaches want. */
static int run_until(const unsigned *counter, unsigned want) {
        while (*counter < want) {
                int r = sd_event_run(event, 30 * 1000000ULL);

                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        return 0;
}

typedef struct World {
        char dir[64];
        char da_path[PATH_MAX];
        char *da_list[1];
        char *identity[3];
        BackupStore *store;
        OperationContext ctx;
        Keeper keeper;
        Device *device;
} World;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void world_done(World *w) {
        w->device = device_free(w->device);
        w->keeper.usb = usb_context_free(w->keeper.usb);
        w->store = backup_store_free(w->store);
        /* our own mkdtemp() directory */
        if (w->dir[0] && nftw(w->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                printf("# cannot remove %s: %s\n", w->dir, strerror(errno));
}

/* A plugged-in phone, opened and identified by the Device (State "ready"),
 * then unplugged with its link known to be gone: the next USB write is
 * refused at once. */
static int world_init(World *w, int *tap_failed_) {
        uint16_t devnum;
        int r;

        *w = (World) {};
        snprintf(w->dir, sizeof(w->dir), "/tmp/test-operation-XXXXXX");
        if (!mkdtemp(w->dir)) {
                w->dir[0] = 0;
                return -errno;
        }
        r = backup_store_open(w->dir, &w->store);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                return r;

        r = usb_context_new(event, &w->keeper.usb);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                return r;
        w->keeper.env = (DeviceEnv) {
                .event = event,
                .usb = w->keeper.usb,
                .grace_usec = 60 * 1000000ULL,
                .events = &keeper_device_events,
                .userdata = &w->keeper,
        };

        devnum = (uint16_t) atoi(sim_stat(PHONE, "devnum"));
        UsbDeviceEvent ev = {
                .add = true,
                .syspath = "/sys/devices/usb1/1-1",
                .sysname = "1-1",
                .vid = 0x0e8d,
                .pid = 0x2000,
                .busnum = SIM_BUS,
                .devnum = devnum,
        };
        r = device_new(&w->keeper.env, &ev, false, &w->device);
        if (r >= 0)
                r = device_attach(w->device, &ev, false, true);
        if (r >= 0)
                r = run_until(&w->keeper.identified, 1);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                return r;
        CHECK_EQ_STR(device_state_to_string(w->device->state), "ready");
        CHECK(w->device->identity.chip && streq(w->device->identity.chip->name, "MT6735"));
        if (!w->device->identity.chip || w->device->state != DEVICE_READY)
                return -EIO;

        snprintf(w->da_path, sizeof(w->da_path), "%s/test-da.bin", w->dir);
        r = write_da(w->da_path, w->device->identity.chip->da_code);
        CHECK_EQ_INT(r, 0);
        if (r < 0)
                return r;
        w->da_list[0] = w->da_path;
        w->identity[0] = (char *) "nvram";
        w->identity[1] = (char *) "nvdata";
        w->ctx = (OperationContext) {
                .store = w->store,
                .state_dir = w->dir,
                .identity_set = w->identity,
                .identity_spec = "nvram,nvdata",
                .auto_backup = AUTO_BACKUP_NEVER,
                .da_sources = { .state_dir = w->dir, .configured = w->da_list, .n_configured = 1 },
                .new_job = keeper_new_job,
                .committed = keeper_committed,
                .userdata = &w->keeper,
        };
        /* without the pulled cable the operation would be accepted: the
         * one gate says yes to this phone and this DA */
        {
                const char *name = NULL;
                _cleanup_free_ char *msg = NULL;
                DaStoreMatch da = {};

                CHECK_EQ_INT(operation_check_supported(&w->ctx, &w->device->identity, &name, &msg, &da, NULL), 0);
                da_store_match_done(&da);
        }

        /* The cable is pulled; nobody tells the Device (no monitor here),
         * so it is still "ready" with its link.  The link learns it at
         * the first transfer, which libusb refuses at submit. */
        CHECK(sim_control("unplug " PHONE) != NULL);
        CHECK_EQ_INT(usb_link_write(w->device->link, NULL, 0, 1000, NULL, NULL), -ENODEV);
        CHECK(usb_link_is_gone(w->device->link));
        if (!usb_link_is_gone(w->device->link))
                return -EIO;
        CHECK_EQ_STR(device_state_to_string(w->device->state), "ready");
        return 0;
}

/* What every case checks of the Device afterwards: not busy, no job, no
 * abort hook into the freed operation (device_detach() would call it). */
static void check_device_after(World *w, int *tap_failed_) {
        Device *d = w->device;

        CHECK(d->state != DEVICE_BUSY);
        CHECK_EQ_STR(device_state_to_string(d->state), "error");
        CHECK(d->job == NULL);
        CHECK(d->abort == NULL);
        CHECK(d->abort_userdata == NULL);
        CHECK(d->error && strstr(d->error, "Download Agent"));
        /* the phone vanished: what the Device says is DeviceGone */
        CHECK_EQ_STR(d->error_name, MTKNV_ERROR_DEVICE_GONE);
        /* the session is closed from the loop; the phone left, so nobody is
         * told it was released */
        for (unsigned i = 0; d->link && i < 100 && sd_event_run(event, 0) > 0; i++)
                ;
        CHECK(d->brom == NULL && d->link == NULL);
        CHECK_EQ_INT(w->keeper.released, 0);
        /* a later unplug event must not reach into the freed operation */
        device_detach(d);
        CHECK_EQ_STR(device_state_to_string(d->state), "disconnected");
}

/* A Job handed in (a request that waited for its phone) and a scatter file:
 * both stay the caller's. */
TEST(send_da_fails_at_once_given_job_and_scatter) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ScatterFile *scatter;
        Job *job = NULL;
        World w;
        int r;

        if (world_init(&w, tap_failed_) < 0) {
                CHECK(!"the phone could not be set up");
                world_done(&w);
                return;
        }
        scatter = make_scatter(tap_failed_);
        CHECK_EQ_INT(job_new(7, "backup", NULL, 1000, &keeper_job_events, &w.keeper, &job), 0);
        if (!scatter || !job) {
                scatter_file_free(scatter);
                job_free(job);
                world_done(&w);
                return;
        }

        r = backup_op_start(&w.ctx, w.device, "manual", scatter, 1000, job, &error);
        CHECK(r < 0);
        CHECK(sd_bus_error_is_set(&error));
        printf("# %s: %s\n", error.name ?: "(no error)", error.message ?: "");
        CHECK(error.message && strstr(error.message, "Download Agent"));

        /* the job is still the caller's: not finished, not freed (ASan),
         * and not wired to the freed operation */
        CHECK_EQ_INT(w.keeper.jobs_made, 0);
        CHECK_EQ_INT(w.keeper.jobs_finished, 0);
        CHECK(!job->finished);
        CHECK(job->cancel == NULL);
        CHECK(job->userdata == NULL);
        CHECK_EQ_STR(job->operation, "backup");
        /* the scatter file too: still whole (ASan sees a read of freed memory) */
        CHECK(scatter->n_entries >= 4);
        CHECK(scatter->entries[0].name != NULL);
        check_device_after(&w, tap_failed_);

        /* freed here, once: a second free is the defect */
        scatter_file_free(scatter);
        /* the caller may still end its job as it likes */
        job_complete(job, false, "test: done with the job");
        CHECK_EQ_INT(w.keeper.jobs_finished, 1);
        world_done(&w);
}

/* No job handed in: the operation made one and must complete it, once. */
TEST(send_da_fails_at_once_own_job) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ScatterFile *scatter;
        World w;
        int r;

        /* a new phone: plugged in again, in a fresh preloader window */
        CHECK(sim_control("plug " PHONE) != NULL);
        CHECK(sim_control("wait " PHONE " phase=listen timeout-ms=10000") != NULL);
        if (world_init(&w, tap_failed_) < 0) {
                CHECK(!"the phone could not be set up");
                world_done(&w);
                return;
        }
        scatter = make_scatter(tap_failed_);
        if (!scatter) {
                world_done(&w);
                return;
        }

        r = backup_op_start(&w.ctx, w.device, "manual", scatter, 1000, NULL, &error);
        CHECK(r < 0);
        CHECK(sd_bus_error_is_set(&error));
        printf("# %s: %s\n", error.name ?: "(no error)", error.message ?: "");

        /* made, published, and ended exactly once, as a failure that says why */
        CHECK_EQ_INT(w.keeper.jobs_made, 1);
        CHECK_EQ_INT(w.keeper.jobs_finished, 1);
        CHECK(w.keeper.made == NULL);
        CHECK(!w.keeper.last_success);
        CHECK(strstr(w.keeper.last_message, "Download Agent") != NULL);
        CHECK(scatter->n_entries >= 4);
        check_device_after(&w, tap_failed_);

        scatter_file_free(scatter);
        world_done(&w);
}

/* A verified backup of the phone in w, bound by this host's key, as a
 * backup operation would have stored it: one nvram image. */
static int store_backup(World *w, BackupInfo *ret) {
        _cleanup_(manifest_freep) Manifest *h = manifest_new();
        _cleanup_free_ char *key = NULL, *id = NULL;
        const BromIdentity *bi = &w->device->identity;
        static uint8_t data[0x10000];
        BackupWriter *bw = NULL;
        uint8_t sha[32];
        int r;

        if (!h)
                return -ENOMEM;
        r = device_make_id(bi, w->device->usb_path, &key);
        if (r < 0)
                return r;
        snprintf(h->source, sizeof(h->source), "manual");
        snprintf(h->chip, sizeof(h->chip), "%s", bi->chip->name);
        h->hw_code = bi->hw_code;
        brom_hex(bi->me_id, bi->me_id_len, h->me_id);
        brom_hex(bi->soc_id, bi->soc_id_len, h->soc_id);
        snprintf(h->device_key, sizeof(h->device_key), "%s", key);
        snprintf(h->table_source, sizeof(h->table_source), "gpt");
        memset(data, 0x5a, sizeof(data));
        r = backup_store_begin(w->store, h, &bw);
        if (r >= 0)
                r = backup_writer_begin_partition(bw, "nvram", STORAGE_REGION_USER, 0x380000, sizeof(data));
        if (r >= 0)
                r = backup_writer_write(bw, data, sizeof(data));
        if (r >= 0)
                r = backup_writer_end_partition(bw, sha);
        if (r >= 0)
                r = backup_writer_set_verified(bw, "read-twice");
        if (r < 0) {
                backup_writer_abort(bw);
                return r;
        }
        r = backup_writer_commit(bw, &id);
        if (r < 0)
                return r;
        return backup_store_load(w->store, key, id, ret);
}

/* A restore (its manifest and images are copies of its own, the backup is
 * the caller's) with a Job handed in: nothing of the caller's is taken. */
TEST(restore_send_da_fails_at_once_given_job) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        BackupInfo backup = {};
        Job *job = NULL;
        World w;
        int r;

        CHECK(sim_control("plug " PHONE) != NULL);
        CHECK(sim_control("wait " PHONE " phase=listen timeout-ms=10000") != NULL);
        if (world_init(&w, tap_failed_) < 0) {
                CHECK(!"the phone could not be set up");
                world_done(&w);
                return;
        }
        r = store_backup(&w, &backup);
        CHECK_EQ_INT(r, 0);
        /* bound to this phone: no allow-foreign needed, the identity check passes */
        CHECK(r < 0 || backup_info_is_bound(&backup));
        CHECK_EQ_INT(job_new(8, "restore", NULL, 1000, &keeper_job_events, &w.keeper, &job), 0);
        if (r < 0 || !job) {
                backup_info_done(&backup);
                job_free(job);
                world_done(&w);
                return;
        }

        r = restore_op_start(&w.ctx, w.device, &backup, NULL, 0, NULL, 1000, job, &error);
        CHECK(r < 0);
        CHECK(sd_bus_error_is_set(&error));
        printf("# %s: %s\n", error.name ?: "(no error)", error.message ?: "");
        CHECK(error.message && strstr(error.message, "Download Agent"));

        CHECK_EQ_INT(w.keeper.jobs_made, 0);
        CHECK_EQ_INT(w.keeper.jobs_finished, 0);
        CHECK(!job->finished);
        CHECK(job->cancel == NULL);
        CHECK(job->userdata == NULL);
        CHECK_EQ_STR(job->operation, "restore");
        CHECK(backup.manifest && backup.manifest->n_parts == 1);
        CHECK_EQ_STR(backup.manifest->parts[0].name, "nvram");
        check_device_after(&w, tap_failed_);

        backup_info_done(&backup);
        job_complete(job, false, "test: done with the job");
        CHECK_EQ_INT(w.keeper.jobs_finished, 1);
        world_done(&w);
}


int main(int argc, char *argv[]) {
        static const TapTest tests[] = { TEST_ENTRY(send_da_fails_at_once_given_job_and_scatter),
                                         TEST_ENTRY(send_da_fails_at_once_own_job),
                                         TEST_ENTRY(restore_send_da_fails_at_once_given_job) };
        int r;

        /* outside mtksim: run this program inside it, with one preloader-mode MT6735 */
        r = sim_run_self(argv[0], "id=" PHONE ",chip=mt6735");
        if (r >= 0)
                return r;
        if (sd_event_default(&event) < 0)
                return 1;
        r = tap_run(tests, ELEMENTSOF(tests));
        sd_event_unref(event);
        return r;
}
