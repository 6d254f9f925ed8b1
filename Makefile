# mtknvd — build, test and demo.
#
#   make               build build/mtknvd, build/mtknvctl, build/mtksim
#   make check         build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan (build/asan/)
#   make demo          a simulated phone appears and is identified by the daemon
#   make fuzz          build the libFuzzer targets (clang)
#   make install       DESTDIR=... PREFIX=/usr
#
# `make check` and `make demo` first make sure the build dependencies are
# there: as root they are installed with apt-get, otherwise the exact
# apt-get line is printed and make stops.

PREFIX        ?= /usr/local
SYSCONFDIR    ?= /etc
BINDIR        ?= $(PREFIX)/bin
LIBEXECDIR    ?= $(PREFIX)/libexec
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR  ?= $(PREFIX)/lib/udev/rules.d
DESTDIR       ?=
CC            ?= cc
CLANG         ?= clang
PKG_CONFIG    ?= pkg-config
PYTHON        ?= /usr/bin/python3

ifeq ($(SANITIZE),1)
BUILD         ?= build/asan
SAN_FLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD         ?= build
SAN_FLAGS     :=
endif

VERSION       := 0.1.0

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wmissing-declarations -Wpointer-arith -Wundef \
	-Wwrite-strings -Wvla -Wimplicit-fallthrough -Wno-unused-parameter \
	-Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -D_GNU_SOURCE -DMTKNVD_VERSION=\"$(VERSION)\" $(SAN_FLAGS)

DAEMON_PKGS := libusb-1.0 libsystemd libudev yaml-0.1 libcrypto zlib libarchive
CLIENT_PKGS := libsystemd
SIM_PKGS    := umockdev-1.0 glib-2.0 gio-2.0 gio-unix-2.0 zlib

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

DAEMON_CFLAGS := $(BASE_CFLAGS) -Idaemon $(call pc_cflags,$(DAEMON_PKGS))
DAEMON_LIBS   := $(call pc_libs,$(DAEMON_PKGS))
CLIENT_CFLAGS := $(BASE_CFLAGS) -Idaemon/protocol -Iclient $(call pc_cflags,$(CLIENT_PKGS))
CLIENT_LIBS   := $(call pc_libs,$(CLIENT_PKGS))
# GLib's headers trip a few of our stricter warnings; the simulator keeps the rest.
SIM_CFLAGS    := $(BASE_CFLAGS) -Wno-cast-function-type -Idaemon/protocol -Itests/sim $(call pc_cflags,$(SIM_PKGS))
SIM_LIBS      := $(call pc_libs,$(SIM_PKGS))

DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_LIB_SRCS := $(filter-out daemon/main.c,$(DAEMON_SRCS))
CLIENT_SRCS := $(wildcard client/*.c)
SIM_SRCS    := $(wildcard tests/sim/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test-*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz-*.c)

DAEMON_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_LIB_SRCS))
CLIENT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLIENT_SRCS))
SIM_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(SIM_SRCS))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

# `make V=1` shows the full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

all: $(BUILD)/mtknvd $(BUILD)/mtknvctl $(BUILD)/mtksim $(UNIT_BINS)

$(BUILD)/obj/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(DAEMON_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/client/%.o: client/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CLIENT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/sim/%.o: tests/sim/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(SIM_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(DAEMON_CFLAGS) -Itests/unit -MMD -MP -c $< -o $@

$(BUILD)/libmtknvd.a: $(DAEMON_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/mtknvd: $(BUILD)/obj/daemon/main.o $(BUILD)/libmtknvd.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

$(BUILD)/mtknvctl: $(CLIENT_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(CLIENT_LIBS)

$(BUILD)/mtksim: $(SIM_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(SIM_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libmtknvd.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

# libFuzzer targets: clang, ASan+UBSan, the daemon's parsers compiled afresh.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Werror -Wno-unused-parameter -D_GNU_SOURCE -DMTKNVD_VERSION=\"$(VERSION)\" -Idaemon \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(call pc_cflags,$(DAEMON_PKGS))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(DAEMON_LIB_SRCS)
	@mkdir -p $(@D)
	$(call say,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(DAEMON_LIB_SRCS) $(DAEMON_LIBS)

fuzz: $(FUZZ_BINS)

# ---------------------------------------------------------------- deps
DEB_PKGS := build-essential pkg-config clang libusb-1.0-0-dev libsystemd-dev libudev-dev \
	libyaml-dev libssl-dev libarchive-dev zlib1g-dev umockdev libumockdev-dev \
	libglib2.0-dev dbus-daemon python3 python3-dbus python3-gi python3-dbusmock valgrind \
	systemd groff-base util-linux

deps:
	@missing=""; \
	for p in $(DAEMON_PKGS) $(CLIENT_PKGS) $(SIM_PKGS); do \
		$(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	for c in $(CC) $(CLANG) dbus-daemon valgrind $(PYTHON) systemd-analyze groff prlimit; do \
		command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	$(PYTHON) -c 'import dbus, gi, dbusmock' >/dev/null 2>&1 || missing="$$missing python3-dbusmock"; \
	[ -e /usr/lib/x86_64-linux-gnu/libumockdev-preload.so.0 ] || \
		ls /usr/lib/*/libumockdev-preload.so.0 >/dev/null 2>&1 || missing="$$missing umockdev"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "mtknvd: missing build/test dependencies:$$missing"; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "mtknvd: installing with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PKGS) || exit 1; \
	else \
		echo "Run this as root, then repeat the make command:"; \
		echo "  apt-get install -y $(DEB_PKGS)"; exit 1; \
	fi

# ---------------------------------------------------------------- run
check: deps
	@$(MAKE) --no-print-directory all fuzz
	@MTKNVD_BUILD=$(BUILD) MTKNVD_SANITIZE=$(SANITIZE) $(PYTHON) tests/run-tests.py $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@MTKNVD_BUILD=$(BUILD) $(PYTHON) tests/demo.py

# ---------------------------------------------------------------- install
INSTALLED := $(BINDIR)/mtknvctl $(LIBEXECDIR)/mtknvd $(SYSTEMDUNITDIR)/mtknvd.service \
	$(UDEVRULESDIR)/70-mtknvd.rules $(DATADIR)/dbus-1/system.d/org.mtknvd.MtkNv1.conf \
	$(DATADIR)/dbus-1/system-services/org.mtknvd.MtkNv1.service \
	$(DATADIR)/dbus-1/interfaces/org.mtknvd.MtkNv1.xml $(DATADIR)/polkit-1/actions/org.mtknvd.MtkNv1.policy \
	$(MANDIR)/man8/mtknvd.8 $(MANDIR)/man5/mtknvd.conf.5 $(MANDIR)/man1/mtknvctl.1

install: $(BUILD)/mtknvd $(BUILD)/mtknvctl
	install -Dm755 $(BUILD)/mtknvctl $(DESTDIR)$(BINDIR)/mtknvctl
	install -Dm755 $(BUILD)/mtknvd $(DESTDIR)$(LIBEXECDIR)/mtknvd
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@libexecdir@|$(LIBEXECDIR)|' systemd/mtknvd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/mtknvd.service
	install -Dm644 udev/70-mtknvd.rules $(DESTDIR)$(UDEVRULESDIR)/70-mtknvd.rules
	install -Dm644 dbus/org.mtknvd.MtkNv1.conf $(DESTDIR)$(DATADIR)/dbus-1/system.d/org.mtknvd.MtkNv1.conf
	install -Dm644 dbus/org.mtknvd.MtkNv1.service $(DESTDIR)$(DATADIR)/dbus-1/system-services/org.mtknvd.MtkNv1.service
	install -Dm644 dbus/org.mtknvd.MtkNv1.xml $(DESTDIR)$(DATADIR)/dbus-1/interfaces/org.mtknvd.MtkNv1.xml
	install -Dm644 dbus/org.mtknvd.MtkNv1.policy $(DESTDIR)$(DATADIR)/polkit-1/actions/org.mtknvd.MtkNv1.policy
	install -Dm644 daemon/mtknvd.8 $(DESTDIR)$(MANDIR)/man8/mtknvd.8
	install -Dm644 daemon/mtknvd.conf.5 $(DESTDIR)$(MANDIR)/man5/mtknvd.conf.5
	install -Dm644 client/mtknvctl.1 $(DESTDIR)$(MANDIR)/man1/mtknvctl.1
	test -e $(DESTDIR)$(SYSCONFDIR)/mtknvd/mtknvd.conf || \
		install -Dm644 daemon/mtknvd.conf $(DESTDIR)$(SYSCONFDIR)/mtknvd/mtknvd.conf

# The configuration file stays: it may hold the administrator's changes.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

clean:
	rm -rf build

# keep objects make would otherwise treat as intermediate
.SECONDARY:

.PHONY: all fuzz deps check demo clean install uninstall

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
