/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "brom.h"
#include "exchange.h"
#include "log.h"

/* brom.md §2.3/§2.4: mtkclient waits 500 ms per handshake byte and gives a
 * device five attempts; the preloader's listen window is 2.5 s. */
#define HANDSHAKE_BYTE_TIMEOUT_MS 500
#define HANDSHAKE_RETRY_TIMEOUT_MS 100
#define HANDSHAKE_ATTEMPTS 5
#define HANDSHAKE_DRAIN_QUIET_MS 20
#define COMMAND_TIMEOUT_MS 1000
/* A BROM checks a DA's signature at ROM clock speed and DA1 then brings
 * up the chip: SEND_DA's final status and JUMP_DA's answer may take
 * seconds on a real phone, where a simple command answers at once. */
#define DA_VERIFY_TIMEOUT_MS 10000
/* After a command the phone did not answer: how long it must stay quiet
 * before the next command, so that a late answer cannot be taken for the
 * next command's echo. */
#define RESYNC_QUIET_MS 50

typedef enum BromStep {
        STEP_IDLE,
        STEP_HS_WAKE,          /* preloader: the lone A0 it swallows */
        STEP_HS_SEND,
        STEP_HS_RECV,
        STEP_HS_DRAIN,
        STEP_HW_CODE,
        STEP_WDT_HEAD,
        STEP_WDT_VALUE,
        STEP_TARGET_CONFIG,
        STEP_BL_VER,
        STEP_VERSION,
        STEP_HW_SW_VER,
        STEP_ME_ID,
        STEP_SOC_ID,
        STEP_RESYNC,           /* a command went unanswered: wait for quiet */
        STEP_DONE,
        STEP_SEND_DA_HEAD,
        STEP_SEND_DA_DATA,
        STEP_SEND_DA_TAIL,
        STEP_JUMP_DA,
        STEP_RESET_HEAD,       /* WRITE32 to WDT_SWRST: address and count */
        STEP_RESET_VALUE,      /* the key; the phone resets */
} BromStep;

struct BromSession {
        UsbLink *link;
        bool preloader;
        BromStep step;
        BromStep resync_next;
        unsigned wdt_pass;     /* 0: the chip's watchdog, 1: its second register */
        unsigned hs_attempt, hs_idx, hs_resends, hs_write_retries;
        uint8_t hs_out, hs_in;
        Exchange x;
        uint8_t buf[16];
        uint8_t status[2];
        BromIdentity id;
        BromFailure failure;
        uint16_t last_status;
        /* SEND_DA upload */
        const uint8_t *up_data;
        uint8_t *up_padded;
        size_t up_len, up_off;
        uint32_t up_addr;
        uint8_t up_tail[4];
        char detail[512];
        BromDone done;
        void *userdata;
};

int brom_session_new(UsbLink *link, bool preloader, BromSession **ret) {
        BromSession *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->link = link;
        s->preloader = preloader;
        *ret = s;
        return 0;
}

BromSession *brom_session_free(BromSession *s) {
        if (!s)
                return NULL;
        s->done = NULL;
        /* what it had in flight must not call back into it once it is freed */
        if (s->link && s->step != STEP_IDLE && s->step != STEP_DONE)
                usb_link_forget(s->link);
        free(s->up_padded);
        free(s);
        return NULL;
}

const BromIdentity *brom_session_get_identity(BromSession *s) {
        return &s->id;
}

BromFailure brom_session_get_failure(BromSession *s) {
        return s->failure;
}

const char *brom_session_get_detail(BromSession *s) {
        return s->detail;
}

void brom_session_cancel(BromSession *s) {
        if (s->step != STEP_IDLE && s->step != STEP_DONE)
                usb_link_cancel(s->link);
}

uint16_t brom_session_get_status(BromSession *s) {
        return s->last_status;
}

/* ------------------------------------------------------------ pure helpers */

static const uint8_t handshake_bytes[BROM_HANDSHAKE_LEN] = {
        BROM_HANDSHAKE_0, BROM_HANDSHAKE_1, BROM_HANDSHAKE_2, BROM_HANDSHAKE_3,
};

uint8_t brom_handshake_byte(unsigned idx) {
        return handshake_bytes[idx % BROM_HANDSHAKE_LEN];
}

BromHandshakeByte brom_handshake_classify(unsigned idx, uint8_t byte) {
        uint8_t want = (uint8_t) (0xff ^ brom_handshake_byte(idx));

        if (byte == want)
                return BROM_HANDSHAKE_MATCH;
        /* A preloader with DTR set says "READY" every 20 ms (brom.md §2.2);
         * none of those letters is a complement of a start byte. */
        if (memchr(BROM_PRELOADER_READY, byte, BROM_PRELOADER_READY_LEN))
                return BROM_HANDSHAKE_NOISE;
        return BROM_HANDSHAKE_MISMATCH;
}

uint16_t brom_checksum_xor16(const uint8_t *data, size_t len) {
        uint16_t x = 0;
        size_t i;

        for (i = 0; i + 1 < len; i += 2)
                x ^= (uint16_t) (data[i] | (data[i + 1] << 8));
        if (i < len)
                x ^= data[i];
        return x;
}

bool brom_status_ok(uint16_t status) {
        return status <= BROM_STATUS_OK_MAX;
}

int brom_parse_hw_code(const uint8_t buf[4], uint16_t *ret_hw_code, uint16_t *ret_status) {
        *ret_hw_code = unaligned_read_be16(buf);
        *ret_status = unaligned_read_be16(buf + 2);
        return brom_status_ok(*ret_status) ? 0 : -EBADMSG;
}

int brom_parse_hw_sw_ver(const uint8_t buf[8], BromIdentity *id) {
        uint16_t status = unaligned_read_be16(buf + 6);

        id->hw_sub_code = unaligned_read_be16(buf);
        id->hw_version = unaligned_read_be16(buf + 2);
        id->sw_version = unaligned_read_be16(buf + 4);
        return brom_status_ok(status) ? 0 : -EBADMSG;
}

int brom_parse_target_config(const uint8_t buf[6], uint32_t *ret_config, uint16_t *ret_status) {
        *ret_config = unaligned_read_be32(buf);
        *ret_status = unaligned_read_be16(buf + 4);
        return brom_status_ok(*ret_status) ? 0 : -EBADMSG;
}

const char *brom_status_to_string(uint16_t status) {
        switch (status) {
        case BROM_STATUS_OK:
                return "Success.";
        case BROM_STATUS_BAD_ALIGNMENT:
        case BROM_STATUS_ZERO_LENGTH:
        case BROM_STATUS_LENGTH_OVERFLOW:
                return "The phone rejected the memory request (bad address or length).";
        case BROM_STATUS_ADDRESS_TOO_HIGH_80000000:
        case BROM_STATUS_ADDRESS_TOO_HIGH_40000000:
                return "The address is outside the range this boot ROM accepts.";
        case BROM_STATUS_INVALID_ADDRESS:
                return "The boot ROM refused the memory access: the chip profile is wrong or memory "
                       "access is locked by the phone's security configuration.";
        case BROM_STATUS_NO_AUTH_NEEDED:
                return "The phone does not need an authentication file.";
        case BROM_STATUS_SLA_REQUIRED:
                return "The phone requires serial-link authentication (the manufacturer's authorisation) "
                       "before it accepts a Download Agent.";
        case BROM_STATUS_DA_OVERLAP:
        case BROM_STATUS_DA_INVALID_JUMP_ADDR:
        case BROM_STATUS_DA_EXCEED_MAX_DA_BLOCKS:
        case BROM_STATUS_DA_ADDR_NOT_16BITS_ALIGNED:
        case BROM_STATUS_DA_INVALID_ADDR_AND_LEN:
        case BROM_STATUS_DA_LEN_IS_ZERO:
                return "The phone rejected the Download Agent's load parameters; the DA file probably "
                       "does not match this chip.";
        case BROM_STATUS_DA_SIG_LEN_EXCEED_DA_LEN:
        case BROM_STATUS_DA_SIG_LEN_ZERO_DAA_ACTIVE:
                return "The phone enforces signed Download Agents (DAA) and this DA has no signature it "
                       "accepts. Use the DA from this phone's own firmware package.";
        case BROM_STATUS_DA_NOT_EXIST:
        case BROM_STATUS_DA_BLOCKS_INCONSISTENT:
        case BROM_STATUS_DA_VERSION_NOT_SUPPORTED:
                return "The boot ROM rejected the Download Agent.";
        case BROM_STATUS_AUTH_IMAGE_VERIFY_FAIL:
        case BROM_STATUS_DA_IMAGE_SIG_VERIFY_FAIL:
        case BROM_STATUS_DA_IMAGE_NO_MEM_FAIL:
        case BROM_STATUS_DA_INIT_KEY_FAIL:
        case BROM_STATUS_IMG_INIT_KEY_FAIL:
        case BROM_STATUS_HASH_IMAGE_FAIL:
        case BROM_STATUS_DA_RELOCATE_SIZE_NOT_ENOUGH:
                return "The preloader rejected the Download Agent's signature (secure download). Use the "
                       "OEM-signed DA from this phone's firmware package; the phone resets afterwards.";
        case BROM_STATUS_DA_IN_BLACKLIST:
                return "This Download Agent is blacklisted by the phone.";
        case BROM_STATUS_DAA_SECURITY_ERROR_SIG:
        case BROM_STATUS_DAA_SECURITY_ERROR:
        case BROM_STATUS_DAA_SIG_VERIFY_FAILED:
                return "Download Agent authentication failed: the phone needs an OEM-signed DA or an "
                       "authentication file.";
        case BROM_STATUS_SECURE_USB_DL_NO_SIG_HEADER:
                return "Secure download is enabled (SP Flash Tool error 6045): the phone only accepts "
                       "images and DAs signed by its manufacturer.";
        case BROM_STATUS_SECURE_USB_DL_IMAGE_HASH:
                return "Secure download image hash check failed (SP Flash Tool error 6047).";
        default:
                return brom_status_ok(status) ? "Success." : "The phone reported an unknown error.";
        }
}

int brom_target_config_flags(uint32_t config, char *buf, size_t size) {
        static const struct {
                uint32_t bit;
                const char *name;
        } flags[] = {
                { BROM_TGT_CFG_SBC, "SBC" },         { BROM_TGT_CFG_SLA, "SLA" },
                { BROM_TGT_CFG_DAA, "DAA" },         { BROM_TGT_CFG_EPP, "EPP" },
                { BROM_TGT_CFG_CERT, "CERT" },       { BROM_TGT_CFG_MEMREAD, "MEMREAD" },
                { BROM_TGT_CFG_MEMWRITE, "MEMWRITE" }, { BROM_TGT_CFG_CMD_C8, "CMD_C8" },
        };
        size_t n = 0;

        if (size == 0)
                return -EINVAL;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                if (!(config & flags[i].bit))
                        continue;
                n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s",
                                       n > 0 ? "+" : "", flags[i].name);
        }
        if (n == 0)
                snprintf(buf, size, "none");
        return n < size ? 0 : -ENOBUFS;
}

const char *brom_target_config_advice(uint32_t config) {
        bool sbc = config & BROM_TGT_CFG_SBC, sla = config & BROM_TGT_CFG_SLA, daa = config & BROM_TGT_CFG_DAA;

        if (sla && daa)
                return "Secure boot is on and the phone requires both serial-link authentication (SLA) and a "
                       "signed Download Agent (DAA): it accepts only its manufacturer's DA together with the "
                       "manufacturer's authorisation. mtknvd cannot work around that.";
        if (sla)
                return "The phone requires serial-link authentication (SLA): the manufacturer's authorisation "
                       "is needed before any Download Agent is accepted.";
        if (daa)
                return "The phone requires a signed Download Agent (DAA): back it up with the DA from this "
                       "phone's own firmware package (mtknvctl add-da FILE).";
        if (sbc)
                return "Secure boot (SBC) is on: the phone verifies what it boots, but it still accepts a "
                       "Download Agent, so backups work.";
        return NULL;
}

void brom_hex(const uint8_t *p, size_t len, char *buf) {
        for (size_t i = 0; i < len; i++)
                sprintf(buf + 2 * i, "%02x", p[i]);
        buf[2 * len] = 0;
}

/* ------------------------------------------------------------ state machine */

static void brom_advance(BromSession *s, int r);
static void brom_on_io(UsbLink *link, int r, void *userdata);
static BromStep brom_next_step(BromSession *s);

static void brom_finish(BromSession *s, int r, BromFailure failure) {
        BromDone done = s->done;

        s->step = STEP_DONE;
        if (r < 0 && s->failure == BROM_FAILURE_NONE)
                s->failure = failure;
        s->done = NULL;
        if (done)
                done(s, r, s->userdata);
}

static BromFailure brom_failure_from_errno(int r) {
        switch (r) {
        case -ENODEV:    return BROM_FAILURE_GONE;
        case -ECANCELED: return BROM_FAILURE_CANCELLED;
        default:         return BROM_FAILURE_PROTOCOL;
        }
}

/* GET_TARGET_CONFIG, GET_ME_ID and GET_SOC_ID are missing from some boot
 * ROMs and preloaders; mtkclient then takes the feature as absent (brom.md
 * §3.3).  Such a phone swallows the opcode and waits for the next one, so
 * silence at the echo means "absent", not a broken phone. */
static bool brom_step_is_optional(BromStep step) {
        return step == STEP_TARGET_CONFIG || step == STEP_ME_ID || step == STEP_SOC_ID;
}

static void brom_feature_absent(BromSession *s) {
        BromIdentity *id = &s->id;
        int r;

        if (s->step == STEP_TARGET_CONFIG) {
                log_info("The phone does not answer GET_TARGET_CONFIG; its security configuration is unknown "
                         "and taken as none.");
                id->target_config = 0;
                id->target_config_unknown = true;
        } else if (s->step == STEP_ME_ID) {
                log_info("The phone does not answer GET_ME_ID; it has no ME ID.");
                id->me_id_len = 0;
        } else {
                log_info("The phone does not answer GET_SOC_ID; it has no SoC ID.");
                id->soc_id_len = 0;
        }
        s->resync_next = brom_next_step(s);
        s->step = STEP_RESYNC;
        r = usb_link_drain(s->link, RESYNC_QUIET_MS, brom_on_io, s);
        if (r < 0) {
                snprintf(s->detail, sizeof(s->detail), "cannot continue after an unanswered command: %s",
                         strerror(-r));
                brom_finish(s, r, brom_failure_from_errno(r));
        }
}

static void brom_on_exchange(Exchange *x, int r, void *userdata) {
        BromSession *s = userdata;

        /* steps[0] sent the opcode, steps[1] waited for its echo */
        if (r == -ETIMEDOUT && brom_step_is_optional(s->step) && x->cur == 1)
                return brom_feature_absent(s);
        if (r < 0) {
                snprintf(s->detail, sizeof(s->detail), "%s", x->error);
                return brom_finish(s, r, brom_failure_from_errno(r));
        }
        brom_advance(s, 0);
}

static void brom_on_io(UsbLink *link, int r, void *userdata) {
        brom_advance(userdata, r);
}

static int brom_run(BromSession *s) {
        return exchange_run(&s->x, s->link, COMMAND_TIMEOUT_MS, brom_on_exchange, s);
}

static void brom_cmd(BromSession *s, uint8_t op, const char *name) {
        exchange_reset(&s->x);
        exchange_write_u8(&s->x, op, name);
        exchange_echo(&s->x);
}

static int brom_start_command(BromSession *s) {
        const BromIdentity *id = &s->id;

        switch (s->step) {
        case STEP_HW_CODE:
                brom_cmd(s, BROM_CMD_GET_HW_CODE, "GET_HW_CODE");
                exchange_read(&s->x, s->buf, 4, "GET_HW_CODE reply");
                break;
        case STEP_WDT_HEAD:
                /* Without this the boot ROM's watchdog resets the phone
                 * while it waits for us (mtkclient does the same, §7.1);
                 * MT6592 has a second register to silence (§5). */
                brom_cmd(s, BROM_CMD_WRITE32, "WRITE32");
                exchange_write_be32(&s->x, s->wdt_pass == 0 ? id->chip->wdt_base : id->chip->wdt2_base,
                                    "WRITE32 address");
                exchange_echo(&s->x);
                exchange_write_be32(&s->x, 1, "WRITE32 count");
                exchange_echo(&s->x);
                exchange_read(&s->x, s->status, 2, "WRITE32 status");
                break;
        case STEP_WDT_VALUE:
                exchange_reset(&s->x);
                exchange_write_be32(&s->x, s->wdt_pass == 0 ? id->chip->wdt_value : id->chip->wdt2_value,
                                    "WRITE32 value");
                exchange_echo(&s->x);
                exchange_read(&s->x, s->status, 2, "WRITE32 final status");
                break;
        case STEP_TARGET_CONFIG:
                brom_cmd(s, BROM_CMD_GET_TARGET_CONFIG, "GET_TARGET_CONFIG");
                exchange_read(&s->x, s->buf, 6, "GET_TARGET_CONFIG reply");
                break;
        case STEP_BL_VER:
                /* no echo: a BROM answers FE, a preloader its version */
                exchange_reset(&s->x);
                exchange_write_u8(&s->x, BROM_CMD_GET_BL_VER, "GET_BL_VER");
                exchange_read(&s->x, s->buf, 1, "GET_BL_VER reply");
                break;
        case STEP_VERSION:
                exchange_reset(&s->x);
                exchange_write_u8(&s->x, BROM_CMD_GET_VERSION, "GET_VERSION");
                exchange_read(&s->x, s->buf, 1, "GET_VERSION reply");
                break;
        case STEP_HW_SW_VER:
                brom_cmd(s, BROM_CMD_GET_HW_SW_VER, "GET_HW_SW_VER");
                exchange_read(&s->x, s->buf, 8, "GET_HW_SW_VER reply");
                break;
        case STEP_ME_ID:
                brom_cmd(s, BROM_CMD_GET_ME_ID, "GET_ME_ID");
                exchange_read_var(&s->x, s->id.me_id, sizeof(s->id.me_id), &s->id.me_id_len, "ME ID");
                exchange_read(&s->x, s->status, 2, "GET_ME_ID status");
                break;
        case STEP_SOC_ID:
                brom_cmd(s, BROM_CMD_GET_SOC_ID, "GET_SOC_ID");
                exchange_read_var(&s->x, s->id.soc_id, sizeof(s->id.soc_id), &s->id.soc_id_len, "SoC ID");
                exchange_read(&s->x, s->status, 2, "GET_SOC_ID status");
                break;
        /* not identification steps */
        case STEP_IDLE:
        case STEP_HS_WAKE:
        case STEP_HS_SEND:
        case STEP_HS_RECV:
        case STEP_HS_DRAIN:
        case STEP_RESYNC:
        case STEP_DONE:
        case STEP_SEND_DA_HEAD:
        case STEP_SEND_DA_DATA:
        case STEP_SEND_DA_TAIL:
        case STEP_JUMP_DA:
        case STEP_RESET_HEAD:
        case STEP_RESET_VALUE:
                return -EINVAL;
        }
        return brom_run(s);
}

/* After the watchdog write (or its refusal): the second register, if any. */
static BromStep brom_after_watchdog(BromSession *s) {
        if (s->wdt_pass == 0 && s->id.chip->wdt2_base != 0) {
                s->wdt_pass = 1;
                return STEP_WDT_HEAD;
        }
        return STEP_TARGET_CONFIG;
}

static bool brom_wants_ids(const BromSession *s) {
        /* A preloader only knows GET_ME_ID from bl_ver 3 on (brom.md §3.3);
         * an older one would leave the command unanswered. */
        return s->id.is_brom || s->id.bl_version >= BROM_BL_VER_MIN_ME_ID;
}

/* Decide what follows the step that just completed. */
static BromStep brom_next_step(BromSession *s) {
        switch (s->step) {
        case STEP_HW_CODE:
                /* brom.md §5: no watchdog write for a chip with has64bit */
                return s->id.chip && !s->id.chip->has64bit ? STEP_WDT_HEAD : STEP_TARGET_CONFIG;
        case STEP_WDT_HEAD:
                return brom_status_ok(unaligned_read_be16(s->status)) &&
                                       unaligned_read_be16(s->status) <= BROM_STATUS_WRITE_STATUS1_MAX
                               ? STEP_WDT_VALUE
                               : brom_after_watchdog(s);
        case STEP_WDT_VALUE:
                return brom_after_watchdog(s);
        case STEP_TARGET_CONFIG:
                return STEP_BL_VER;
        case STEP_BL_VER:
                return STEP_VERSION;
        case STEP_VERSION:
                /* brom.md §5: an IoT chip is asked for neither versions nor ME ID */
                return s->id.chip && s->id.chip->iot ? STEP_DONE : STEP_HW_SW_VER;
        case STEP_HW_SW_VER:
                return brom_wants_ids(s) ? STEP_ME_ID : STEP_DONE;
        case STEP_ME_ID:
                /* as mtkclient: the SoC ID only after a ME ID, for a chip with
                 * a SoC ID address or an XML (V6) one (brom.md §3.3, xml-da.md §1) */
                return brom_wants_ids(s) && s->id.me_id_len > 0 && s->id.chip &&
                                       (s->id.chip->soc_id_addr || s->id.chip->da_mode == DA_MODE_XML)
                               ? STEP_SOC_ID
                               : STEP_DONE;
        case STEP_IDLE:
        case STEP_HS_WAKE:
        case STEP_HS_SEND:
        case STEP_HS_RECV:
        case STEP_HS_DRAIN:
        case STEP_SOC_ID:
        case STEP_RESYNC:
        case STEP_DONE:
        case STEP_SEND_DA_HEAD:
        case STEP_SEND_DA_DATA:
        case STEP_SEND_DA_TAIL:
        case STEP_JUMP_DA:
        case STEP_RESET_HEAD:
        case STEP_RESET_VALUE:
                break;
        }
        return STEP_DONE;
}

/* Digest the answer of the step that just completed; < 0 fails identification. */
static int brom_digest(BromSession *s) {
        BromIdentity *id = &s->id;
        uint16_t status;
        int r;

        switch (s->step) {
        case STEP_HW_CODE:
                r = brom_parse_hw_code(s->buf, &id->hw_code, &status);
                if (r < 0) {
                        snprintf(s->detail, sizeof(s->detail), "GET_HW_CODE failed with status 0x%04x: %s",
                                 status, brom_status_to_string(status));
                        s->failure = BROM_FAILURE_REFUSED;
                        return r;
                }
                id->chip = chip_table_lookup(id->hw_code);
                log_debug("hw code 0x%04x (%s)", id->hw_code, id->chip ? id->chip->name : "unknown chip");
                break;
        case STEP_WDT_HEAD:
                status = unaligned_read_be16(s->status);
                if (status > BROM_STATUS_WRITE_STATUS1_MAX)
                        log_info("Phone refused to disable its watchdog%s (status 0x%04x); continuing.",
                                 s->wdt_pass > 0 ? " (second register)" : "", status);
                break;
        case STEP_WDT_VALUE:
                status = unaligned_read_be16(s->status);
                if (s->wdt_pass == 0)
                        id->watchdog_disabled = brom_status_ok(status);
                if (!brom_status_ok(status))
                        log_info("Watchdog write%s failed (status 0x%04x); continuing.",
                                 s->wdt_pass > 0 ? " (second register)" : "", status);
                break;
        case STEP_TARGET_CONFIG:
                r = brom_parse_target_config(s->buf, &id->target_config, &status);
                if (r < 0) {
                        snprintf(s->detail, sizeof(s->detail),
                                 "GET_TARGET_CONFIG failed with status 0x%04x: %s", status,
                                 brom_status_to_string(status));
                        s->failure = BROM_FAILURE_REFUSED;
                        return r;
                }
                break;
        case STEP_BL_VER:
                id->bl_version = s->buf[0];
                id->is_brom = id->bl_version == BROM_BL_VER_IS_BROM;
                break;
        case STEP_VERSION:
                id->brom_version = s->buf[0];
                break;
        case STEP_HW_SW_VER:
                if (brom_parse_hw_sw_ver(s->buf, id) < 0)
                        log_info("GET_HW_SW_VER reported status 0x%04x; versions may be wrong.",
                                 unaligned_read_be16(s->buf + 6));
                break;
        case STEP_ME_ID:
                status = unaligned_read_be16(s->status);
                if (!brom_status_ok(status)) {
                        log_info("GET_ME_ID failed with status 0x%04x; the phone has no ME ID.", status);
                        id->me_id_len = 0;
                }
                break;
        case STEP_SOC_ID:
                status = unaligned_read_be16(s->status);
                if (!brom_status_ok(status)) {
                        log_info("GET_SOC_ID failed with status 0x%04x.", status);
                        id->soc_id_len = 0;
                }
                break;
        case STEP_IDLE:
        case STEP_HS_WAKE:
        case STEP_HS_SEND:
        case STEP_HS_RECV:
        case STEP_HS_DRAIN:
        case STEP_RESYNC:
        case STEP_DONE:
        case STEP_SEND_DA_HEAD:
        case STEP_SEND_DA_DATA:
        case STEP_SEND_DA_TAIL:
        case STEP_JUMP_DA:
        case STEP_RESET_HEAD:
        case STEP_RESET_VALUE:
                break;
        }
        return 0;
}

static int brom_handshake_send(BromSession *s) {
        s->hs_out = brom_handshake_byte(s->hs_idx);
        s->step = STEP_HS_SEND;
        return usb_link_write(s->link, &s->hs_out, 1, HANDSHAKE_BYTE_TIMEOUT_MS, brom_on_io, s);
}

static int brom_handshake_retry(BromSession *s) {
        if (++s->hs_attempt >= HANDSHAKE_ATTEMPTS)
                return -EPROTO;
        s->hs_idx = 0;
        s->hs_resends = 0;
        s->step = STEP_HS_DRAIN;
        return usb_link_drain(s->link, HANDSHAKE_DRAIN_QUIET_MS, brom_on_io, s);
}

static void brom_handshake_failed(BromSession *s, int r, const char *why) {
        snprintf(s->detail, sizeof(s->detail), "%s (after %u attempts, %s)", why, s->hs_attempt + 1,
                 s->preloader ? "preloader" : "BROM");
        brom_finish(s, r, r == -ENODEV ? BROM_FAILURE_GONE :
                          r == -ECANCELED ? BROM_FAILURE_CANCELLED : BROM_FAILURE_HANDSHAKE);
}

static const uint8_t handshake_wake = BROM_HANDSHAKE_0;

/* A start byte the phone did not take (its endpoint stalled, or the
 * transfer timed out) is sent again, within the same budget of attempts
 * as wrong answers.  A stalled transfer carries no data, so the phone is
 * where it was: the same byte, no drain, no restart from A0 (a preloader
 * back in its listen loop would swallow that A0).  The transport has
 * cleared the halt, so the next write can go through. */
static void brom_handshake_write_failed(BromSession *s, int r) {
        if (r == -ENODEV || r == -ECANCELED)
                return brom_handshake_failed(s, r, "handshake interrupted");
        if (++s->hs_write_retries >= HANDSHAKE_ATTEMPTS) {
                snprintf(s->detail, sizeof(s->detail), "the phone refused %u writes of the start bytes (%s, %s)",
                         s->hs_write_retries, strerror(-r), s->preloader ? "preloader" : "BROM");
                return brom_finish(s, r, BROM_FAILURE_HANDSHAKE);
        }
        log_debug("Handshake byte %u could not be sent (%s); sending it again.", s->hs_idx, strerror(-r));
        if (s->step == STEP_HS_WAKE)
                r = usb_link_write(s->link, &handshake_wake, 1, HANDSHAKE_BYTE_TIMEOUT_MS, brom_on_io, s);
        else
                r = brom_handshake_send(s);
        if (r < 0)
                brom_handshake_failed(s, r, "cannot send a start byte");
}

static void brom_advance(BromSession *s, int r) {
        switch (s->step) {
        case STEP_HS_WAKE:
        case STEP_HS_DRAIN:
                if (r < 0 && s->step == STEP_HS_WAKE)
                        return brom_handshake_write_failed(s, r);
                if (r < 0)
                        return brom_handshake_failed(s, r, "cannot start the handshake");
                r = brom_handshake_send(s);
                if (r < 0)
                        return brom_handshake_failed(s, r, "cannot send a start byte");
                return;

        case STEP_HS_SEND:
                if (r < 0)
                        return brom_handshake_write_failed(s, r);
                s->step = STEP_HS_RECV;
                /* On a retry the preloader may be back in its listen loop and
                 * swallow our A0 without a word: wait briefly and send it again. */
                r = usb_link_read(s->link, &s->hs_in, 1,
                                  s->hs_attempt > 0 && s->hs_idx == 0 ? HANDSHAKE_RETRY_TIMEOUT_MS
                                                                      : HANDSHAKE_BYTE_TIMEOUT_MS,
                                  brom_on_io, s);
                if (r < 0)
                        return brom_handshake_failed(s, r, "cannot read the handshake reply");
                return;

        case STEP_HS_RECV:
                if (r == -ETIMEDOUT && s->hs_attempt > 0 && s->hs_idx == 0 && s->hs_resends++ < 1) {
                        r = brom_handshake_send(s);
                        if (r < 0)
                                return brom_handshake_failed(s, r, "cannot send a start byte");
                        return;
                }
                if (r == -ENODEV || r == -ECANCELED)
                        return brom_handshake_failed(s, r, "handshake interrupted");
                if (r < 0) {
                        r = brom_handshake_retry(s);
                        if (r < 0)
                                return brom_handshake_failed(s, r == -EPROTO ? -ETIMEDOUT : r,
                                                             "no answer to the start bytes");
                        return;
                }
                switch (brom_handshake_classify(s->hs_idx, s->hs_in)) {
                case BROM_HANDSHAKE_NOISE:
                        r = usb_link_read(s->link, &s->hs_in, 1, HANDSHAKE_BYTE_TIMEOUT_MS, brom_on_io, s);
                        if (r < 0)
                                return brom_handshake_failed(s, r, "cannot read the handshake reply");
                        return;
                case BROM_HANDSHAKE_MISMATCH:
                        log_debug("Handshake byte %u: sent 0x%02x, got 0x%02x", s->hs_idx, s->hs_out, s->hs_in);
                        r = brom_handshake_retry(s);
                        if (r < 0)
                                return brom_handshake_failed(s, r, "the phone answered the start bytes wrongly");
                        return;
                case BROM_HANDSHAKE_MATCH:
                        break;
                }
                if (++s->hs_idx < BROM_HANDSHAKE_LEN) {
                        r = brom_handshake_send(s);
                        if (r < 0)
                                return brom_handshake_failed(s, r, "cannot send a start byte");
                        return;
                }
                log_debug("Handshake complete after %u attempt(s).", s->hs_attempt + 1);
                s->step = STEP_HW_CODE;
                break;

        case STEP_RESYNC:
                if (r == -ENODEV || r == -ECANCELED) {
                        snprintf(s->detail, sizeof(s->detail), "the phone %s after an unanswered command",
                                 r == -ENODEV ? "disconnected" : "was released");
                        return brom_finish(s, r, brom_failure_from_errno(r));
                }
                s->step = s->resync_next;
                break;

        case STEP_DONE:
        case STEP_IDLE:
        case STEP_HW_CODE:
        case STEP_WDT_HEAD:
        case STEP_WDT_VALUE:
        case STEP_TARGET_CONFIG:
        case STEP_BL_VER:
        case STEP_VERSION:
        case STEP_HW_SW_VER:
        case STEP_ME_ID:
        case STEP_SOC_ID:
        case STEP_SEND_DA_HEAD:
        case STEP_SEND_DA_DATA:
        case STEP_SEND_DA_TAIL:
        case STEP_JUMP_DA:
        case STEP_RESET_HEAD:
        case STEP_RESET_VALUE:
                /* A command exchange completed: digest it and pick the next. */
                r = brom_digest(s);
                if (r < 0)
                        return brom_finish(s, r, BROM_FAILURE_PROTOCOL);
                s->step = brom_next_step(s);
                break;
        }

        if (s->step == STEP_DONE)
                return brom_finish(s, 0, BROM_FAILURE_NONE);

        r = brom_start_command(s);
        if (r < 0) {
                snprintf(s->detail, sizeof(s->detail), "cannot send a command: %s", strerror(-r));
                brom_finish(s, r, brom_failure_from_errno(r));
        }
}

int brom_session_identify(BromSession *s, BromDone done, void *userdata) {
        int r;

        if (s->step != STEP_IDLE && s->step != STEP_DONE)
                return -EBUSY;

        s->id = (BromIdentity) {};
        s->failure = BROM_FAILURE_NONE;
        s->detail[0] = 0;
        s->hs_attempt = s->hs_idx = s->hs_resends = s->hs_write_retries = 0;
        s->wdt_pass = 0;
        s->done = done;
        s->userdata = userdata;

        if (s->preloader) {
                /* brom.md §2.2: a listening preloader discards the first chunk
                 * that starts with A0, so wake it with a lone one. */
                s->step = STEP_HS_WAKE;
                r = usb_link_write(s->link, &handshake_wake, 1, HANDSHAKE_BYTE_TIMEOUT_MS, brom_on_io, s);
        } else
                r = brom_handshake_send(s);
        if (r < 0) {
                s->step = STEP_IDLE;
                s->done = NULL;
        }
        return r;
}

/* ------------------------------------------------------------ SEND_DA / JUMP_DA */

/* §3.5: OUT transfers of this size, each followed by a zero-length packet
 * as MediaTek's and mtkclient's hosts do; the phone counts bytes. */
#define UPLOAD_CHUNK BROM_UPLOAD_ZLP_INTERVAL
#define UPLOAD_TIMEOUT_MS 5000

static void brom_upload_on_io(UsbLink *link, int r, void *userdata);
static void brom_da_on_exchange(Exchange *x, int r, void *userdata);

static void brom_upload_fail(BromSession *s, int r, const char *what) {
        snprintf(s->detail, sizeof(s->detail), "%s: %s", what,
                 r == -ENODEV ? "the phone disconnected" : r == -ETIMEDOUT ? "no answer" : strerror(-r));
        brom_finish(s, r, brom_failure_from_errno(r));
}

static void brom_upload_next(BromSession *s) {
        UsbIovec v[USB_WRITEV_MAX];
        size_t n = 0, off = s->up_off;
        int r;

        if (s->up_off >= s->up_len) {
                /* checksum and status2 */
                s->step = STEP_SEND_DA_TAIL;
                exchange_reset(&s->x);
                exchange_read(&s->x, s->up_tail, 4, "SEND_DA checksum and status");
                r = exchange_run(&s->x, s->link, DA_VERIFY_TIMEOUT_MS, brom_da_on_exchange, s);
                if (r < 0)
                        brom_upload_fail(s, r, "SEND_DA");
                return;
        }
        /* several chunks, each with its zero-length packet, back to back */
        while (off < s->up_len && n + 2 <= USB_WRITEV_MAX) {
                size_t k = MIN(s->up_len - off, (size_t) UPLOAD_CHUNK);

                v[n++] = (UsbIovec) { (void *) (s->up_data + off), k };
                v[n++] = (UsbIovec) { NULL, 0 };
                off += k;
        }
        s->step = STEP_SEND_DA_DATA;
        r = usb_link_writev(s->link, v, n, UPLOAD_TIMEOUT_MS, brom_upload_on_io, s);
        if (r < 0)
                return brom_upload_fail(s, r, "uploading the Download Agent");
        s->up_off = off;
}

static void brom_upload_on_io(UsbLink *link, int r, void *userdata) {
        BromSession *s = userdata;

        if (r < 0)
                return brom_upload_fail(s, r, "uploading the Download Agent");
        brom_upload_next(s);
}

static void brom_da_on_exchange(Exchange *x, int r, void *userdata) {
        BromSession *s = userdata;
        uint16_t status, sum, want;

        /* The watchdog resets the chip as soon as it has the key: once the
         * key is out (step 0 written), the phone may vanish or fall silent
         * before its echo and status. */
        if (s->step == STEP_RESET_VALUE && x->cur > 0 &&
            (r == -ENODEV || r == -ETIMEDOUT || r == -EPIPE || r == -EIO)) {
                log_debug("The phone reset before it finished answering (%s).", x->error);
                return brom_finish(s, 0, BROM_FAILURE_NONE);
        }
        if (r < 0) {
                snprintf(s->detail, sizeof(s->detail), "%s", x->error);
                return brom_finish(s, r, brom_failure_from_errno(r));
        }

        switch (s->step) {
        case STEP_SEND_DA_HEAD:
                status = unaligned_read_be16(s->status);
                s->last_status = status;
                if (!brom_status_ok(status)) {
                        snprintf(s->detail, sizeof(s->detail), "SEND_DA refused with status 0x%04x: %s", status,
                                 brom_status_to_string(status));
                        return brom_finish(s, -EACCES, BROM_FAILURE_REFUSED);
                }
                s->up_off = 0;
                return brom_upload_next(s);
        case STEP_SEND_DA_TAIL:
                sum = unaligned_read_be16(s->up_tail);
                status = unaligned_read_be16(s->up_tail + 2);
                s->last_status = status;
                if (!brom_status_ok(status)) {
                        snprintf(s->detail, sizeof(s->detail),
                                 "the phone rejected the Download Agent after upload (status 0x%04x): %s", status,
                                 brom_status_to_string(status));
                        return brom_finish(s, -EACCES, BROM_FAILURE_REFUSED);
                }
                /* status2 is the phone's verdict on what it received (brom.md
                 * §3.3); some phones answer 0 instead of the checksum, and a
                 * differing one is worth a warning, as in both reference hosts. */
                want = brom_checksum_xor16(s->up_data, s->up_len);
                if (sum != 0 && sum != want)
                        log_warning("SEND_DA: the phone computed checksum 0x%04x, the Download Agent has 0x%04x; "
                                    "continuing, since the phone accepted it (status 0x%04x).", sum, want, status);
                return brom_finish(s, 0, BROM_FAILURE_NONE);
        case STEP_JUMP_DA:
                status = unaligned_read_be16(s->status);
                s->last_status = status;
                if (status != BROM_STATUS_OK) {
                        snprintf(s->detail, sizeof(s->detail), "JUMP_DA refused with status 0x%04x: %s", status,
                                 brom_status_to_string(status));
                        return brom_finish(s, -EACCES, BROM_FAILURE_REFUSED);
                }
                return brom_finish(s, 0, BROM_FAILURE_NONE);
        case STEP_RESET_HEAD:
                status = unaligned_read_be16(s->status);
                s->last_status = status;
                if (status > BROM_STATUS_WRITE_STATUS1_MAX) {
                        snprintf(s->detail, sizeof(s->detail), "the phone refused the reset (status 0x%04x): %s",
                                 status, brom_status_to_string(status));
                        return brom_finish(s, -EACCES, BROM_FAILURE_REFUSED);
                }
                s->step = STEP_RESET_VALUE;
                exchange_reset(&s->x);
                exchange_write_be32(&s->x, BROM_WDT_SWRST_KEY, "WDT_SWRST key");
                exchange_echo(&s->x);
                exchange_read(&s->x, s->status, 2, "WRITE32 final status");
                r = exchange_run(&s->x, s->link, COMMAND_TIMEOUT_MS, brom_da_on_exchange, s);
                if (r < 0)
                        brom_upload_fail(s, r, "resetting the phone");
                return;
        case STEP_RESET_VALUE:
                status = unaligned_read_be16(s->status);
                s->last_status = status;
                if (!brom_status_ok(status)) {
                        snprintf(s->detail, sizeof(s->detail), "the phone refused the reset (status 0x%04x): %s",
                                 status, brom_status_to_string(status));
                        return brom_finish(s, -EACCES, BROM_FAILURE_REFUSED);
                }
                return brom_finish(s, 0, BROM_FAILURE_NONE);
        case STEP_DONE:
        case STEP_IDLE:
        case STEP_HS_WAKE:
        case STEP_HS_SEND:
        case STEP_HS_RECV:
        case STEP_HS_DRAIN:
        case STEP_HW_CODE:
        case STEP_WDT_HEAD:
        case STEP_WDT_VALUE:
        case STEP_TARGET_CONFIG:
        case STEP_BL_VER:
        case STEP_VERSION:
        case STEP_HW_SW_VER:
        case STEP_ME_ID:
        case STEP_SOC_ID:
        case STEP_RESYNC:
        case STEP_SEND_DA_DATA:
                return brom_finish(s, -EINVAL, BROM_FAILURE_PROTOCOL);
        }
}

static int brom_session_begin(BromSession *s, BromStep step, BromDone done, void *userdata) {
        if (s->step != STEP_IDLE && s->step != STEP_DONE)
                return -EBUSY;
        s->step = step;
        s->failure = BROM_FAILURE_NONE;
        s->detail[0] = 0;
        s->last_status = 0;
        s->done = done;
        s->userdata = userdata;
        return 0;
}

int brom_session_send_da(BromSession *s, uint32_t addr, const uint8_t *data, size_t len, uint32_t sig_len,
                         BromDone done, void *userdata) {
        int r;

        if (len == 0 || len > UINT32_MAX - 1 || sig_len > len)
                return -EINVAL;
        r = brom_session_begin(s, STEP_SEND_DA_HEAD, done, userdata);
        if (r < 0)
                return r;

        /* §3.5: an odd payload gets one zero byte, and the padded length is sent */
        s->up_padded = mfree(s->up_padded);
        if (len % 2) {
                s->up_padded = malloc(len + 1);
                if (!s->up_padded)
                        return -ENOMEM;
                memcpy(s->up_padded, data, len);
                s->up_padded[len] = 0;
                data = s->up_padded;
                len++;
        }
        s->up_data = data;
        s->up_len = len;
        s->up_addr = addr;

        brom_cmd(s, BROM_CMD_SEND_DA, "SEND_DA");
        exchange_write_be32(&s->x, addr, "SEND_DA address");
        exchange_echo(&s->x);
        exchange_write_be32(&s->x, (uint32_t) len, "SEND_DA length");
        exchange_echo(&s->x);
        exchange_write_be32(&s->x, sig_len, "SEND_DA signature length");
        exchange_echo(&s->x);
        exchange_read(&s->x, s->status, 2, "SEND_DA status");
        r = exchange_run(&s->x, s->link, COMMAND_TIMEOUT_MS, brom_da_on_exchange, s);
        if (r < 0)
                s->step = STEP_IDLE;
        return r;
}

int brom_session_jump_da(BromSession *s, uint32_t addr, BromDone done, void *userdata) {
        int r;

        r = brom_session_begin(s, STEP_JUMP_DA, done, userdata);
        if (r < 0)
                return r;
        brom_cmd(s, BROM_CMD_JUMP_DA, "JUMP_DA");
        exchange_write_be32(&s->x, addr, "JUMP_DA address");
        exchange_echo(&s->x);
        exchange_read(&s->x, s->status, 2, "JUMP_DA status");
        r = exchange_run(&s->x, s->link, DA_VERIFY_TIMEOUT_MS, brom_da_on_exchange, s);
        if (r < 0)
                s->step = STEP_IDLE;
        return r;
}

int brom_session_reset(BromSession *s, BromDone done, void *userdata) {
        int r;

        /* without the chip we do not know where its watchdog is */
        if (!s->id.chip)
                return -EOPNOTSUPP;
        r = brom_session_begin(s, STEP_RESET_HEAD, done, userdata);
        if (r < 0)
                return r;
        brom_cmd(s, BROM_CMD_WRITE32, "WRITE32");
        exchange_write_be32(&s->x, s->id.chip->wdt_base + BROM_WDT_SWRST_OFFSET, "WDT_SWRST address");
        exchange_echo(&s->x);
        exchange_write_be32(&s->x, 1, "WRITE32 count");
        exchange_echo(&s->x);
        exchange_read(&s->x, s->status, 2, "WRITE32 status");
        r = exchange_run(&s->x, s->link, COMMAND_TIMEOUT_MS, brom_da_on_exchange, s);
        if (r < 0)
                s->step = STEP_IDLE;
        return r;
}
