/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "da-legacy-proto.h"
#include "sim-storage.h"

#define SECTOR 512u
#define UFS_BLOCK 4096u   /* xflash.md §8.2: the UFS block size is the sector */
/* da.md §9 item 2: boot areas and RPMB of 4 MiB, a 16 GB-class user area */
#define BOOT_SIZE (4u * 1024u * 1024u)
#define USER_SIZE_DEFAULT 0x3a3e00000ULL
/* a PMT-era phone (MT6582/MT6592 kind) with a 4 GB-class eMMC: PMT entries
 * have 32-bit fields below 4 GiB (da.md §5.4) */
#define USER_SIZE_PMT 0xe8000000ULL
#define PMT_ENTRY_LEN 0x4c
#define GPT_ENTRIES 128u
#define GPT_ENTRY_SIZE 128u

struct SimStorage {
        int fd;
        bool ufs;
        uint64_t user_size;
        uint8_t *boot[2];
        uint8_t cid[16];
        char ufs_serial[SIM_UFS_SERIAL_LEN + 1];
        uint8_t ufs_product[SIM_UFS_PRODUCT_LEN];
        uint8_t *pmt;
        size_t pmt_len;
};

typedef struct Layout {
        const char *name;
        uint64_t start, size;   /* size 0: up to the reserved area at the end */
        bool identity;
        uint64_t from_end;      /* mt6765 layout: starts this far before the end of USER */
} Layout;

/* da.md §5.6 (MT6735/MT6753 V1.1.2 scatters), user-area offsets */
static const Layout layout[] = {
        { "proinfo", 0x80000, 0x300000, true },
        { "nvram", 0x380000, 0x500000, true },
        { "protect1", 0x880000, 0xa00000, true },
        { "protect2", 0x1280000, 0xa00000, true },
        { "lk", 0x1c80000, 0x80000, false },
        { "para", 0x1d00000, 0x80000, false },
        { "boot", 0x1d80000, 0x1000000, false },
        { "recovery", 0x2d80000, 0x1000000, false },
        { "logo", 0x3d80000, 0x800000, false },
        { "expdb", 0x4580000, 0xa00000, false },
        { "seccfg", 0x4f80000, 0x80000, false },
        { "oemkeystore", 0x5000000, 0x200000, false },
        { "secro", 0x5200000, 0x600000, false },
        { "keystore", 0x5800000, 0x800000, false },
        { "tee1", 0x6000000, 0x500000, false },
        { "tee2", 0x6500000, 0x500000, false },
        { "frp", 0x6a00000, 0x100000, false },
        { "nvdata", 0x6b00000, 0x2000000, true },
        { "metadata", 0x8b00000, 0x2500000, false },
        { "system", 0xb000000, 0x80000000, false },
        { "cache", 0x8b000000, 0x1a000000, false },
        { "userdata", 0xa5000000, 0, false },
};
/* reserved at the end (scatter 0xFFFF0084 / 0xFFFF0004): flashinfo + sgpt */
#define RESERVED_END (0x1000000ULL + 0x80000ULL)

/* The XFlash-era layout (layout=mt6765): the MT6765 V1.1.2 scatter of
 * ../shared/corpus/scatter (fahad15090_A16k-oppo), user-area offsets as
 * there, up to userdata; otp and flashinfo sit at the end as in that file,
 * before 0x8000 bytes kept for the secondary GPT.  nvram is 64 MiB,
 * nvcfg/nvdata/protect1/protect2/persist are partitions of their own. */
#define MT6765_SGPT_RESERVE 0x8000ULL
#define MT6765_FLASHINFO_SIZE 0x1000000ULL
#define MT6765_OTP_SIZE 0x2b00000ULL
static const Layout layout_mt6765[] = {
        { "boot_para", 0x8000, 0x100000, false, 0 },
        { "recovery", 0x108000, 0x6200000, false, 0 },
        { "para", 0x6308000, 0x80000, false, 0 },
        { "expdb", 0x12c88000, 0x1400000, false, 0 },
        { "vbmeta_system", 0x14088000, 0x800000, false, 0 },
        { "vbmeta_vendor", 0x14888000, 0x800000, false, 0 },
        { "frp", 0x15088000, 0x100000, false, 0 },
        { "nvcfg", 0x15188000, 0x2000000, true, 0 },
        { "nvdata", 0x17188000, 0x4000000, true, 0 },
        { "md_udc", 0x1b188000, 0x169a000, false, 0 },
        { "metadata", 0x1c822000, 0x2000000, false, 0 },
        { "protect1", 0x1e822000, 0x800000, true, 0 },
        { "protect2", 0x1f022000, 0xfde000, true, 0 },
        { "seccfg", 0x20000000, 0x800000, false, 0 },
        { "persist", 0x20800000, 0x3000000, true, 0 },
        { "sec1", 0x23800000, 0x200000, false, 0 },
        { "proinfo", 0x23a00000, 0x300000, true, 0 },
        { "md1img", 0x2ad00000, 0x6400000, false, 0 },
        { "spmfw", 0x31100000, 0x100000, false, 0 },
        { "scp1", 0x31200000, 0x100000, false, 0 },
        { "scp2", 0x31300000, 0x100000, false, 0 },
        { "sspm_1", 0x31400000, 0x100000, false, 0 },
        { "sspm_2", 0x31500000, 0x100000, false, 0 },
        { "gz1", 0x31600000, 0x1000000, false, 0 },
        { "gz2", 0x32600000, 0x1000000, false, 0 },
        { "nvram", 0x33600000, 0x4000000, true, 0 },
        { "lk", 0x37600000, 0x500000, false, 0 },
        { "lk2", 0x37b00000, 0x500000, false, 0 },
        { "boot", 0x38000000, 0x2000000, false, 0 },
        { "vendor_boot", 0x3a000000, 0x4000000, false, 0 },
        { "logo", 0x3e000000, 0x1000000, false, 0 },
        { "dtbo", 0x3f000000, 0x800000, false, 0 },
        { "tee1", 0x3f800000, 0x500000, false, 0 },
        { "tee2", 0x3fd00000, 0xb00000, false, 0 },
        { "super", 0x40800000, 0x203800000, false, 0 },
        { "vbmeta", 0x244000000, 0x800000, false, 0 },
        { "cache", 0x244800000, 0x1b000000, false, 0 },
        { "userdata", 0x25f800000, 0, false, 0 },
        { "otp", 0, MT6765_OTP_SIZE, false, MT6765_SGPT_RESERVE + MT6765_FLASHINFO_SIZE + MT6765_OTP_SIZE },
        { "flashinfo", 0, MT6765_FLASHINFO_SIZE, false, MT6765_SGPT_RESERVE + MT6765_FLASHINFO_SIZE },
};
#define MT6765_RESERVED_END (MT6765_SGPT_RESERVE + MT6765_FLASHINFO_SIZE + MT6765_OTP_SIZE)

static const Layout *layout_table(const SimPhoneConfig *cfg, size_t *ret_n) {
        if (cfg->layout == SIM_LAYOUT_MT6765) {
                *ret_n = G_N_ELEMENTS(layout_mt6765);
                return layout_mt6765;
        }
        *ret_n = G_N_ELEMENTS(layout);
        return layout;
}

static uint64_t entry_start(const SimStorage *s, const Layout *l) {
        return l->from_end ? s->user_size - l->from_end : l->start;
}

static uint64_t entry_size(const SimStorage *s, const SimPhoneConfig *cfg, const Layout *l) {
        if (l->size)
                return l->size;
        return s->user_size - (cfg->layout == SIM_LAYOUT_MT6765 ? MT6765_RESERVED_END : RESERVED_END) - l->start;
}

static void le16(uint8_t *b, uint16_t v) {
        b[0] = (uint8_t) v;
        b[1] = (uint8_t) (v >> 8);
}
static void le32(uint8_t *b, uint32_t v) {
        le16(b, (uint16_t) v);
        le16(b + 2, (uint16_t) (v >> 16));
}
static void le64(uint8_t *b, uint64_t v) {
        le32(b, (uint32_t) v);
        le32(b + 4, (uint32_t) (v >> 32));
}

static uint64_t splitmix(uint64_t *x) {
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static uint64_t seed_for(const SimPhoneConfig *cfg, const char *name) {
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < sizeof(cfg->me_id); i++)
                h = (h ^ cfg->me_id[i]) * 1099511628211ULL;
        for (const char *c = name; *c; c++)
                h = (h ^ (uint8_t) *c) * 1099511628211ULL;
        return h;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, (off_t) off);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
                off += (uint64_t) k;
        }
        return 0;
}

static void guid_from(uint8_t out[16], uint64_t seed) {
        uint64_t a = splitmix(&seed), b = splitmix(&seed);

        memcpy(out, &a, 8);
        memcpy(out + 8, &b, 8);
        out[7] = (uint8_t) ((out[7] & 0x0f) | 0x40); /* version 4 (little-endian field) */
        out[8] = (uint8_t) ((out[8] & 0x3f) | 0x80);
}

static int storage_write_gpt(SimStorage *s, const SimPhoneConfig *cfg) {
        /* Basic data partition type EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 (da.md §5.3) */
        static const uint8_t basic_data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                                0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };
        /* eMMC 512-byte sectors; UFS 4096 (xflash.md §15.1) */
        uint32_t sector = s->ufs ? UFS_BLOCK : SECTOR;
        uint64_t entries_sectors = GPT_ENTRIES * GPT_ENTRY_SIZE / sector;
        uint64_t last_lba = s->user_size / sector - 1;
        uint64_t entries_lba_backup = last_lba - entries_sectors;
        /* the MT6765 layout's pgpt is 0x8000 bytes (xflash.md §15.2: first usable LBA 64) */
        uint64_t first_usable = cfg->layout == SIM_LAYOUT_MT6765 ? 0x8000 / sector : 2 + entries_sectors;
        g_autofree uint8_t *entries = g_malloc0(GPT_ENTRIES * GPT_ENTRY_SIZE);
        g_autofree uint8_t *mbr = g_malloc0(sector), *hdr = g_malloc0(sector);
        size_t n_layout;
        const Layout *lt = layout_table(cfg, &n_layout);
        uint32_t entries_crc;
        int r;

        for (size_t i = 0; i < n_layout; i++) {
                uint8_t *e = entries + i * GPT_ENTRY_SIZE;
                uint64_t start = entry_start(s, &lt[i]), size = entry_size(s, cfg, &lt[i]);

                memcpy(e, basic_data, 16);
                guid_from(e + 16, seed_for(cfg, lt[i].name));
                le64(e + 32, start / sector);
                le64(e + 40, (start + size) / sector - 1);
                for (size_t c = 0; lt[i].name[c] && c < 36; c++)
                        le16(e + 56 + 2 * c, (uint16_t) lt[i].name[c]);
        }
        entries_crc = (uint32_t) crc32(0, entries, GPT_ENTRIES * GPT_ENTRY_SIZE);

        /* protective MBR: one entry, type EE, from LBA 1 (da.md §2.14) */
        mbr[0x1be + 4] = 0xee;
        le32(mbr + 0x1be + 8, 1);
        le32(mbr + 0x1be + 12, last_lba > 0xffffffffULL ? 0xffffffffU : (uint32_t) last_lba);
        mbr[0x1fe] = 0x55;
        mbr[0x1ff] = 0xaa;

        for (int backup = 0; backup <= 1; backup++) {
                memset(hdr, 0, sector);
                memcpy(hdr, "EFI PART", 8);
                le32(hdr + 8, 0x00010000);
                le32(hdr + 12, 92);
                le64(hdr + 24, backup ? last_lba : 1);
                le64(hdr + 32, backup ? 1 : last_lba);
                le64(hdr + 40, first_usable);
                le64(hdr + 48, last_lba - entries_sectors - 1);
                guid_from(hdr + 56, seed_for(cfg, "disk"));
                le64(hdr + 72, backup ? entries_lba_backup : 2);
                le32(hdr + 80, GPT_ENTRIES);
                le32(hdr + 84, GPT_ENTRY_SIZE);
                le32(hdr + 88, entries_crc);
                le32(hdr + 16, (uint32_t) crc32(0, hdr, 92));

                r = pwrite_all(s->fd, hdr, sector, (backup ? last_lba : 1) * sector);
                if (r >= 0)
                        r = pwrite_all(s->fd, entries, GPT_ENTRIES * GPT_ENTRY_SIZE,
                                       (backup ? entries_lba_backup : 2) * sector);
                if (r < 0)
                        return r;
        }
        return pwrite_all(s->fd, mbr, sector, 0);
}

/* da.md §5.4: "PTv1", then name[64] + u32 size + u32 offset + u32 mask_flags
 * per entry, little-endian; the DA hands the table out with READ_PMT. */
static void storage_build_pmt(SimStorage *s) {
        size_t n = G_N_ELEMENTS(layout);

        s->pmt_len = 4 + n * PMT_ENTRY_LEN;
        s->pmt = g_malloc0(s->pmt_len);
        le32(s->pmt, 0x50547631);
        for (size_t i = 0; i < n; i++) {
                uint8_t *e = s->pmt + 4 + i * PMT_ENTRY_LEN;
                uint64_t size = layout[i].size ? layout[i].size : s->user_size - RESERVED_END - layout[i].start;
                char name[64];

                /* PMT-era names are upper case (NVRAM, PRO_INFO, PROTECT_F) */
                snprintf(name, sizeof(name), "%s", g_str_equal(layout[i].name, "proinfo") ? "PRO_INFO" :
                                                   g_str_equal(layout[i].name, "protect1") ? "PROTECT_F" :
                                                   g_str_equal(layout[i].name, "protect2") ? "PROTECT_S" : layout[i].name);
                for (char *c = name; *c; c++)
                        *c = g_ascii_toupper(*c);
                memcpy(e, name, strlen(name));
                le32(e + 64, (uint32_t) size);
                le32(e + 68, (uint32_t) layout[i].start);
        }
}

/* The MT6765 layout's identity partitions are 3–64 MiB, mostly empty ext4 on
 * a real phone: noise in their first 2 MiB, their last MiB and every eighth
 * MiB between, zeros (sparse) elsewhere, so an image stays small. */
static bool fill_block(const SimPhoneConfig *cfg, uint64_t off, uint64_t size) {
        const uint64_t mib = 1024 * 1024;

        if (cfg->layout != SIM_LAYOUT_MT6765)
                return true;
        return off < 2 * mib || off + mib >= size || (off / mib) % 8 == 0;
}

static int storage_fill_identity(SimStorage *s, const SimPhoneConfig *cfg) {
        g_autofree uint8_t *buf = g_malloc(1024 * 1024);
        size_t n_layout;
        const Layout *lt = layout_table(cfg, &n_layout);

        for (size_t i = 0; i < n_layout; i++) {
                uint64_t x = seed_for(cfg, lt[i].name);

                if (!lt[i].identity)
                        continue;
                for (uint64_t off = 0; off < lt[i].size; off += 1024 * 1024) {
                        size_t n = (size_t) MIN(lt[i].size - off, (uint64_t) 1024 * 1024);
                        int r;

                        if (!fill_block(cfg, off, lt[i].size))
                                continue;
                        for (size_t k = 0; k + 8 <= n; k += 8) {
                                uint64_t v = splitmix(&x);
                                memcpy(buf + k, &v, 8);
                        }
                        if (off == 0) {
                                /* something a human recognises in a hex dump */
                                snprintf((char *) buf, 64, "MTKSIM %s %s", cfg->id, lt[i].name);
                        }
                        r = pwrite_all(s->fd, buf, n, lt[i].start + off);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

SimStorage *sim_storage_open(const char *path, const SimPhoneConfig *cfg, GError **error) {
        SimStorage *s = g_new0(SimStorage, 1);
        struct stat st;
        bool fresh;
        int r = 0;

        s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->fd < 0 || fstat(s->fd, &st) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open storage %s: %s",
                            path, g_strerror(errno));
                sim_storage_close(s);
                return NULL;
        }
        fresh = st.st_size == 0;
        s->ufs = cfg->ufs;
        s->user_size = fresh ? (cfg->layout == SIM_LAYOUT_PMT ? USER_SIZE_PMT : USER_SIZE_DEFAULT)
                             : (uint64_t) st.st_size / (s->ufs ? UFS_BLOCK : SECTOR) * (s->ufs ? UFS_BLOCK : SECTOR);
        if (cfg->layout == SIM_LAYOUT_PMT)
                storage_build_pmt(s);
        if (fresh) {
                if (ftruncate(s->fd, (off_t) s->user_size) < 0)
                        r = -errno;
                if (r >= 0 && cfg->layout != SIM_LAYOUT_PMT)
                        r = storage_write_gpt(s, cfg);
                if (r >= 0)
                        r = storage_fill_identity(s, cfg);
                if (r < 0) {
                        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r), "cannot create storage %s: %s",
                                    path, g_strerror(-r));
                        sim_storage_close(s);
                        return NULL;
                }
        }
        s->boot[0] = g_malloc0(BOOT_SIZE);
        s->boot[1] = g_malloc0(BOOT_SIZE);

        /* eMMC CID: manufacturer 0x15, OEM, product name, serial from the ME ID */
        s->cid[0] = 0x15;
        s->cid[1] = 0x01;
        s->cid[2] = 0x00;
        memcpy(s->cid + 3, "8GND3R", 6);
        s->cid[9] = 0x10;
        memcpy(s->cid + 10, cfg->me_id, 4);
        s->cid[14] = 0x9b;
        s->cid[15] = 0x01;
        /* UFS serial (xflash.md §8.2 offset 0x3E): ASCII, from the ME ID too (assumed) */
        for (size_t i = 0; i < SIM_UFS_SERIAL_LEN / 2; i++)
                snprintf(s->ufs_serial + 2 * i, 3, "%02X", cfg->me_id[i]);
        /* a UFS MCP's part number is what EMI records name (brom-emi.md §4.4) */
        memcpy(s->ufs_product, "KM2V8001CM-B707", 15);
        return s;
}

void sim_storage_close(SimStorage *s) {
        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd);
        g_free(s->boot[0]);
        g_free(s->boot[1]);
        g_free(s->pmt);
        g_free(s);
}

uint64_t sim_storage_region_size(const SimStorage *s, uint8_t region) {
        if (!s)
                return 0;
        switch (region) {
        case DA_EMMC_REGION_BOOT1:
        case DA_EMMC_REGION_BOOT2:
        case DA_EMMC_REGION_RPMB:
                return BOOT_SIZE;
        case DA_EMMC_REGION_USER:
                return s->user_size;
        default:
                return 0;
        }
}

bool sim_storage_is_ufs(const SimStorage *s) {
        return s && s->ufs;
}

const char *sim_storage_ufs_serial(const SimStorage *s) {
        return s ? s->ufs_serial : "";
}

const uint8_t *sim_storage_ufs_product(const SimStorage *s) {
        static const uint8_t none[SIM_UFS_PRODUCT_LEN];

        return s ? s->ufs_product : none;
}

const uint8_t *sim_storage_memory_id(const SimStorage *s) {
        /* 16 bytes: the eMMC CID, or the UFS part number NUL-padded */
        return s && s->ufs ? s->ufs_product : sim_storage_cid(s);
}

const uint8_t *sim_storage_cid(const SimStorage *s) {
        static const uint8_t none[16];

        return s ? s->cid : none;
}

void sim_storage_read(SimStorage *s, uint8_t region, uint64_t off, uint8_t *buf, size_t n) {
        memset(buf, 0, n);
        if (!s)
                return;
        if (region == DA_EMMC_REGION_BOOT1 || region == DA_EMMC_REGION_BOOT2) {
                memcpy(buf, s->boot[region - 1] + off, n);
                return;
        }
        if (region != DA_EMMC_REGION_USER)
                return;
        for (size_t done = 0; done < n;) {
                ssize_t k = pread(s->fd, buf + done, n - done, (off_t) (off + done));

                if (k <= 0) {
                        if (k < 0 && errno == EINTR)
                                continue;
                        break;
                }
                done += (size_t) k;
        }
}

void sim_storage_write(SimStorage *s, uint8_t region, uint64_t off, const uint8_t *buf, size_t n) {
        if (!s)
                return;
        if (region == DA_EMMC_REGION_BOOT1 || region == DA_EMMC_REGION_BOOT2) {
                memcpy(s->boot[region - 1] + off, buf, n);
                return;
        }
        if (region == DA_EMMC_REGION_USER && pwrite_all(s->fd, buf, n, off) < 0)
                g_warning("mtksim: writing the storage image failed: %s", g_strerror(errno));
}

const uint8_t *sim_storage_pmt(const SimStorage *s, size_t *ret_len) {
        if (!s || !s->pmt)
                return NULL;
        *ret_len = s->pmt_len;
        return s->pmt;
}
