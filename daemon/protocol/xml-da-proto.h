/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MediaTek XML ("V6") Download Agent protocol: wire constants only.
 *
 * Source: ../shared/protocol/xml-da.md (section numbers below refer to
 * it).  Shared by the daemon and the simulated phone; no code here.
 * Packets use the XFlash header (xflash-proto.h: magic, data type,
 * length, little-endian); what travels in them is text: XML documents,
 * short replies and raw data.
 */
#pragma once

/* §2.1 the packet header is XFlash's (12 bytes); a message packet
 * (type XFLASH_DT_MESSAGE) carries a u32 level before its text */
#define XML_HEADER_SIZE              12

/* §3.1 every document starts with this prolog and ends with one NUL */
#define XML_PROLOG                   "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
#define XML_VERSION_DEFAULT          "1.0"
#define XML_VERSION_RUNTIME_PARAM    "1.1"    /* SET-RUNTIME-PARAMETER only */
#define XML_VERSION_HOST             "1.0"    /* <host> documents from the DA */

/* document roots: the host writes <da>, the DA writes <host> */
#define XML_ROOT_HOST_DOC            "da"
#define XML_ROOT_DA_DOC              "host"

/* §2.1, §3.2 short replies (text up to the first NUL is what counts) */
#define XML_REPLY_OK                 "OK"
#define XML_REPLY_OK_VALUE_PREFIX    "OK@"      /* OK@0x<hex> */
#define XML_REPLY_EOT                "OK!EOT"
#define XML_REPLY_PROGRESS_PREFIX    "OK!PROGRESS@"   /* OK!PROGRESS@<percent>@<text> */
#define XML_REPLY_UNSUPPORTED        "ERR!UNSUPPORTED"

/* §3.1 the DA's lifetime documents */
#define XML_CMD_START                "CMD:START"
#define XML_CMD_END                  "CMD:END"
#define XML_RESULT_OK                "OK"
#define XML_RESULT_ERR               "ERR"

/* §3.2 DA -> host requests inside a command */
#define XML_CMD_UPLOAD_FILE          "CMD:UPLOAD-FILE"
#define XML_CMD_DOWNLOAD_FILE        "CMD:DOWNLOAD-FILE"
#define XML_CMD_FILE_SYS_OPERATION   "CMD:FILE-SYS-OPERATION"
#define XML_CMD_PROGRESS_REPORT      "CMD:PROGRESS-REPORT"

#define XML_CHECKSUM_NONE            "CHK_NO"
#define XML_CHECKSUM_ADD             "CHK_ADD"
#define XML_FS_FILE_SIZE             "FILE-SIZE"
#define XML_FS_EXISTS                "EXISTS"
#define XML_FS_MKDIR                 "MKDIR"
#define XML_FS_REMOVE                "REMOVE"
#define XML_FS_REMOVE_ALL            "REMOVE-ALL"
#define XML_INFO_2ND_DA              "2nd-DA"

/* §4.4, §4.5, §5 host commands */
#define XML_CMD_SET_RUNTIME_PARAMETER   "CMD:SET-RUNTIME-PARAMETER"
#define XML_CMD_HOST_SUPPORTED_COMMANDS "CMD:HOST-SUPPORTED-COMMANDS"
#define XML_CMD_NOTIFY_INIT_HW          "CMD:NOTIFY-INIT-HW"
#define XML_CMD_SET_HOST_INFO           "CMD:SET-HOST-INFO"
#define XML_CMD_BOOT_TO                 "CMD:BOOT-TO"
#define XML_CMD_CAN_HIGHER_USB_SPEED    "CMD:CAN-HIGHER-USB-SPEED"
#define XML_CMD_GET_SYS_PROPERTY        "CMD:GET-SYS-PROPERTY"
#define XML_CMD_GET_HW_INFO             "CMD:GET-HW-INFO"
#define XML_CMD_GET_DA_INFO             "CMD:GET-DA-INFO"
#define XML_CMD_EMMC_CONTROL            "CMD:EMMC-CONTROL"
#define XML_CMD_READ_FLASH              "CMD:READ-FLASH"
#define XML_CMD_WRITE_FLASH             "CMD:WRITE-FLASH"
#define XML_CMD_ERASE_FLASH             "CMD:ERASE-FLASH"
#define XML_CMD_READ_PARTITION          "CMD:READ-PARTITION"
#define XML_CMD_WRITE_PARTITION         "CMD:WRITE-PARTITION"
#define XML_CMD_READ_PARTITION_TABLE    "CMD:READ-PARTITION-TABLE"
#define XML_CMD_SECURITY_GET_DEV_FW_INFO "CMD:SECURITY-GET-DEV-FW-INFO"
#define XML_CMD_REBOOT                  "CMD:REBOOT"
#define XML_CMD_SET_BOOT_MODE           "CMD:SET-BOOT-MODE"

/* §4.4 SET-RUNTIME-PARAMETER and HOST-SUPPORTED-COMMANDS values */
#define XML_CHECKSUM_LEVEL_NONE      "NONE"
#define XML_BATTERY_AUTO_DETECT      "AUTO-DETECT"
#define XML_SYSTEM_OS_LINUX          "LINUX"
#define XML_HOST_CAPABILITY \
        "CMD:DOWNLOAD-FILE^1@CMD:FILE-SYS-OPERATION^1@CMD:PROGRESS-REPORT^1@CMD:UPLOAD-FILE^1@"

/* §5.5 */
#define XML_SYS_PROP_DA_SLA          "DA.SLA"
#define XML_SLA_DISABLED             "DISABLED"
#define XML_EMMC_LIFE_CYCLE_STATUS   "LIFE-CYCLE-STATUS"
#define XML_REBOOT_IMMEDIATE         "IMMEDIATE"
#define XML_REBOOT_DISCONNECT        "DISCONNECT"

/* §5.1 GET-HW-INFO <storage> */
#define XML_STORAGE_EMMC             "EMMC"
#define XML_STORAGE_UFS              "UFS"
#define XML_STORAGE_NAND             "NAND"

/* §5.6 region names of READ-FLASH / WRITE-FLASH / ERASE-FLASH */
#define XML_REGION_EMMC_BOOT1        "EMMC-BOOT1"
#define XML_REGION_EMMC_BOOT2        "EMMC-BOOT2"
#define XML_REGION_EMMC_RPMB         "EMMC-RPMB"
#define XML_REGION_EMMC_GP1          "EMMC-GP1"
#define XML_REGION_EMMC_USER         "EMMC-USER"
#define XML_REGION_UFS_LUA0          "UFS-LUA0"
#define XML_REGION_UFS_LUA1          "UFS-LUA1"
#define XML_REGION_UFS_LUA2          "UFS-LUA2"
#define XML_REGION_UFS_LUA3          "UFS-LUA3"

/* §5.7 sector sizes */
#define XML_SECTOR_EMMC              512
#define XML_SECTOR_UFS               4096

/* §4.4 BOOT-TO's DOWNLOAD-FILE packet length seen from a real DA */
#define XML_BOOT_TO_PACKET_LENGTH    0x1000u

/* §1 a DA file whose identifier contains this speaks V6 */
#define XML_DA_FILE_ID_MARK          "MTK_DA_v6"

/* §4.4 SET-RUNTIME-PARAMETER's remaining values */
#define XML_DA_LOG_LEVEL_INFO        "INFO"
#define XML_LOG_CHANNEL_UART         "UART"
#define XML_INITIALIZE_DRAM_YES      "YES"

/* §3.4 a buffer in host memory, MEM://<address>:<length>; §6 the name
 * READ-FLASH's data goes to */
#define XML_MEM_FILE_PREFIX          "MEM://"
#define XML_TARGET_FILE_ROM          "ROM_0"

/* §3.1 the element names of the documents, by path */
#define XML_TAG_VERSION              "version"
#define XML_TAG_COMMAND              "command"
#define XML_TAG_ARG                  "arg"
#define XML_TAG_ADV                  "adv"
#define XML_TAG_RESULT               "result"
#define XML_TAG_MESSAGE              "message"
#define XML_TAG_CHECKSUM             "checksum"
#define XML_TAG_INFO                 "info"
#define XML_TAG_TARGET_FILE          "target_file"
#define XML_TAG_SOURCE_FILE          "source_file"
#define XML_TAG_PACKET_LENGTH        "packet_length"
#define XML_TAG_KEY                  "key"
#define XML_TAG_FILE_PATH            "file_path"
#define XML_TAG_PARTITION            "partition"
#define XML_TAG_OFFSET               "offset"
#define XML_TAG_LENGTH               "length"
#define XML_TAG_ACTION               "action"
#define XML_TAG_AT_ADDRESS           "at_address"
#define XML_TAG_JMP_ADDRESS          "jmp_address"
#define XML_TAG_HOST_CAPABILITY      "host_capability"
#define XML_TAG_CHECKSUM_LEVEL       "checksum_level"
#define XML_TAG_BATTERY_EXIST        "battery_exist"
#define XML_TAG_DA_LOG_LEVEL         "da_log_level"
#define XML_TAG_LOG_CHANNEL          "log_channel"
#define XML_TAG_SYSTEM_OS            "system_os"
#define XML_TAG_INITIALIZE_DRAM      "initialize_dram"

/* §5.1 GET-HW-INFO's result document */
#define XML_TAG_HW_INFO              "da_hw_info"
#define XML_TAG_STORAGE              "storage"
#define XML_TAG_EMMC                 "emmc"
#define XML_TAG_UFS                  "ufs"
#define XML_TAG_BLOCK_SIZE           "block_size"
#define XML_TAG_RAM_SIZE             "ram_size"
#define XML_TAG_BOOT1_SIZE           "boot1_size"
#define XML_TAG_BOOT2_SIZE           "boot2_size"
#define XML_TAG_RPMB_SIZE            "rpmb_size"
#define XML_TAG_USER_SIZE            "user_size"
#define XML_TAG_LUA0_SIZE            "lua0_size"
#define XML_TAG_LUA1_SIZE            "lua1_size"
#define XML_TAG_LUA2_SIZE            "lua2_size"
#define XML_TAG_LUA3_SIZE            "lua3_size"
#define XML_TAG_ID                   "id"
#define XML_TAG_EMMC_CID             "emmc_cid"   /* some DAs' name for <id> (§5.1) */
#define XML_TAG_UFS_CID              "ufs_cid"
#define XML_TAG_PRODUCT_ID           "product_id"

/* §5.5 GET-SYS-PROPERTY's result: <sys_prop><item key="…">value</item></sys_prop> */
#define XML_TAG_SYS_PROP             "sys_prop"
#define XML_TAG_ITEM                 "item"
#define XML_ATTR_KEY                 "key"
