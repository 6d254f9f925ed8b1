# mtknvd — build, test and demo.
#
#   make               build build/mtknvd, build/mtknvctl, build/mtksim
#   make check         build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan (build/asan/)
#   make demo          a simulated phone appears and is identified by the daemon
#   make bench         benchmarks against same-run baselines (tests/bench/README.md)
#   make fuzz          build the libFuzzer targets (clang)
#   make install       DESTDIR=... PREFIX=/usr
#
# Paths: PREFIX (default /usr/local); SYSCONFDIR follows it (/etc for
# PREFIX=/usr, else $(PREFIX)/etc) and is compiled into the daemon as its
# default configuration file, so build and install with the same PREFIX.
# Distributions: CC, CPPFLAGS, CFLAGS and LDFLAGS (from the command line or
# the environment, e.g. dpkg-buildflags') are appended to ours, so they win;
# WERROR=0 builds without -Werror, which development and CI builds (make,
# make check) keep.  `make V=1` shows the full command lines.
#
# `make check` and `make demo` first make sure the build dependencies are
# there: as root they are installed with apt-get, otherwise the exact
# apt-get line is printed and make stops.

PREFIX        ?= /usr/local
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
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

WERROR   ?= 1
WARNINGS := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wmissing-declarations -Wpointer-arith -Wundef \
	-Wwrite-strings -Wvla -Wimplicit-fallthrough -Wno-unused-parameter \
	-Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -D_GNU_SOURCE -DMTKNVD_VERSION=\"$(VERSION)\" $(SAN_FLAGS)

DAEMON_PKGS := libusb-1.0 libsystemd libudev yaml-0.1 libcrypto zlib libarchive libxml-2.0
CLIENT_PKGS := libsystemd
SIM_PKGS    := umockdev-1.0 glib-2.0 gio-2.0 gio-unix-2.0 zlib

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

# The daemon's layers (README "Layout"), each a folder; headers are included
# by name, as in systemd's tree.  common/ is built into daemon, client and
# simulator alike.
DAEMON_DIRS   := daemon $(sort $(dir $(wildcard daemon/*/*.c daemon/*/*/*.c)))
DAEMON_INC    := $(patsubst %/,%,$(addprefix -I,$(DAEMON_DIRS))) -Icommon
COMMON_CFLAGS := $(BASE_CFLAGS) -Icommon
DAEMON_CFLAGS := $(BASE_CFLAGS) $(DAEMON_INC) $(call pc_cflags,$(DAEMON_PKGS))
DAEMON_LIBS   := $(call pc_libs,$(DAEMON_PKGS))
CLIENT_CFLAGS := $(BASE_CFLAGS) -Idaemon/protocol -Icommon -Iclient $(call pc_cflags,$(CLIENT_PKGS))
CLIENT_LIBS   := $(call pc_libs,$(CLIENT_PKGS))
# GLib's headers trip a few of our stricter warnings; the simulator keeps the rest.
SIM_CFLAGS    := $(BASE_CFLAGS) -Wno-cast-function-type -Idaemon/protocol -Icommon -Itests/sim $(call pc_cflags,$(SIM_PKGS))
SIM_LIBS      := $(call pc_libs,$(SIM_PKGS))

COMMON_SRCS := $(wildcard common/*.c)
DAEMON_SRCS := $(wildcard daemon/*.c daemon/*/*.c daemon/*/*/*.c)
DAEMON_LIB_SRCS := $(filter-out daemon/main.c,$(DAEMON_SRCS)) $(COMMON_SRCS)
CLIENT_SRCS := $(wildcard client/*.c)
SIM_SRCS    := $(wildcard tests/sim/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test-*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz-*.c)

DAEMON_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_LIB_SRCS))
COMMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRCS))
CLIENT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLIENT_SRCS)) $(COMMON_OBJS)
SIM_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(SIM_SRCS))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# what the unit tests that run inside the simulator share
UNIT_HELPER_OBJS := $(BUILD)/obj/tests/unit/sim-client.o
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

# `make V=1` shows the full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

all: $(BUILD)/mtknvd $(BUILD)/mtknvctl $(BUILD)/mtksim $(UNIT_BINS) $(BUILD)/tools/fail-rename.so $(BUILD)/tools/kill-at.so

$(BUILD)/obj/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(DAEMON_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(COMMON_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/client/%.o: client/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CLIENT_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/sim/%.o: tests/sim/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(SIM_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(DAEMON_CFLAGS) -Itests/unit $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The daemon's default configuration file lies in SYSCONFDIR (config.h); main.o
# is rebuilt when SYSCONFDIR changes: the stamp holds the value it was built with.
$(BUILD)/sysconfdir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@
$(BUILD)/obj/daemon/main.o: $(BUILD)/sysconfdir.stamp
$(BUILD)/obj/daemon/main.o: DAEMON_CFLAGS += -DSYSCONFDIR=\"$(SYSCONFDIR)\"

$(BUILD)/libmtknvd.a: $(DAEMON_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/mtknvd: $(BUILD)/obj/daemon/main.o $(BUILD)/libmtknvd.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

$(BUILD)/mtknvctl: $(CLIENT_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CLIENT_LIBS)

$(BUILD)/mtksim: $(SIM_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SIM_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJS) $(BUILD)/libmtknvd.a
	@mkdir -p $(@D)
	$(call say,LINK,$@)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS)

# the simulator's shared-line model on its own (pure bookkeeping, no GLib)
$(BUILD)/tests/test-sim-hub: $(BUILD)/obj/tests/sim/sim-hub.o

# preloaded into the daemon by e2e tests that need a write to fail (tests/tools/fail-rename.c);
# without the sanitizers: it only wraps one libc call
$(BUILD)/tools/fail-rename.so: tests/tools/fail-rename.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARNINGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

# ...and by those that kill it at an exact step of a commit or delete (tests/tools/kill-at.c)
$(BUILD)/tools/kill-at.so: tests/tools/kill-at.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARNINGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

# libFuzzer targets: clang, ASan+UBSan.  The daemon's sources are compiled
# once for all of them, with the fuzzer's coverage instrumentation
# (fuzzer-no-link), into an archive each target links against.
FUZZ_BASE_CFLAGS := -std=gnu11 -g -O1 -Wall $(if $(filter 1,$(WERROR)),-Werror) -Wno-unused-parameter -D_GNU_SOURCE -DMTKNVD_VERSION=\"$(VERSION)\" $(DAEMON_INC) \
	-fno-sanitize-recover=undefined $(call pc_cflags,$(DAEMON_PKGS))
FUZZ_CFLAGS := $(FUZZ_BASE_CFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LIB_CFLAGS := $(FUZZ_BASE_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(DAEMON_LIB_SRCS))

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CLANG,$<)
	$(Q)$(CLANG) $(FUZZ_LIB_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz-obj/libmtknvd-fuzz.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz-obj/libmtknvd-fuzz.a
	@mkdir -p $(@D)
	$(call say,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -MF $(BUILD)/fuzz-obj/$*.d -o $@ $< $(BUILD)/fuzz-obj/libmtknvd-fuzz.a $(DAEMON_LIBS)

fuzz: $(FUZZ_BINS)

# ---------------------------------------------------------------- deps
DEB_PKGS := build-essential pkg-config clang libusb-1.0-0-dev libsystemd-dev libudev-dev \
	libyaml-dev libssl-dev libarchive-dev libxml2-dev zlib1g-dev umockdev libumockdev-dev \
	libglib2.0-dev dbus-daemon python3 python3-dbus python3-gi python3-dbusmock valgrind \
	systemd groff-base util-linux desktop-file-utils libxml2-utils shared-mime-info libglib2.0-bin \
	bash-completion libdbus-1-dev polkitd appstream dpkg-dev debhelper lintian fakeroot

# files the install tests validate against: the D-Bus DTDs (libdbus-1-dev),
# polkit's (polkitd), bash-completion's helpers
DEP_FILES := /usr/share/xml/dbus-1/busconfig.dtd /usr/share/xml/dbus-1/introspect.dtd \
	/usr/share/polkit-1/policyconfig-1.dtd /usr/share/bash-completion/bash_completion

deps:
	@missing=""; \
	for p in $(DAEMON_PKGS) $(CLIENT_PKGS) $(SIM_PKGS); do \
		$(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	for c in $(CC) $(CLANG) dbus-daemon valgrind $(PYTHON) systemd-analyze groff prlimit \
		desktop-file-validate xmllint update-mime-database gio appstreamcli \
		dpkg-buildpackage dh lintian fakeroot; do \
		command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	for f in $(DEP_FILES); do [ -e $$f ] || missing="$$missing $$f"; done; \
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
# The build runs one compiler per core unless make was given its own -j.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check: deps
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(CHECK_JOBS)) all fuzz
	@MTKNVD_BUILD=$(BUILD) MTKNVD_SANITIZE=$(SANITIZE) $(PYTHON) tests/run-tests.py $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@MTKNVD_BUILD=$(BUILD) $(PYTHON) tests/demo.py

# make bench: latency, throughput, concurrency and idle cost, each against a
# baseline measured in the same run (tests/bench/README.md); never part of check.
$(BUILD)/bench/raw-reader: tests/bench/raw-reader.c daemon/protocol/brom-proto.h daemon/protocol/da-legacy-proto.h
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(BASE_CFLAGS) -Idaemon/protocol $(call pc_cflags,libusb-1.0) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(call pc_libs,libusb-1.0)

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/raw-reader
	@MTKNVD_BUILD=$(BUILD) $(PYTHON) tests/bench/run-bench.py

# ---------------------------------------------------------------- install
# desktop integration: the agent (autostart entry, user unit), file types,
# file-manager actions and their wrapper, bash completion
USERUNITDIR   ?= $(PREFIX)/lib/systemd/user
DESKTOP_INSTALLED := $(SYSCONFDIR)/xdg/autostart/mtknvd-agent.desktop $(USERUNITDIR)/mtknvd-agent.service \
	$(DATADIR)/mime/packages/mtknvd.xml $(DATADIR)/applications/org.mtknvd.mtknvctl.desktop \
	$(DATADIR)/kio/servicemenus/mtknvd-restore.desktop $(DATADIR)/kio/servicemenus/mtknvd-import-spflash.desktop \
	$(DATADIR)/nemo/actions/mtknvd-restore.nemo_action $(DATADIR)/nemo/actions/mtknvd-import-spflash.nemo_action \
	$(LIBEXECDIR)/mtknvd-file-action $(DATADIR)/bash-completion/completions/mtknvctl \
	$(DATADIR)/metainfo/org.mtknvd.mtknvd.metainfo.xml $(DATADIR)/icons/hicolor/scalable/apps/org.mtknvd.mtknvd.svg
# A real install refreshes the MIME and desktop caches; into a DESTDIR that is
# the package manager's job (its triggers).
UPDATE_CACHES = @if [ -z "$(DESTDIR)" ]; then \
	! command -v update-mime-database >/dev/null || update-mime-database $(DATADIR)/mime; \
	! command -v update-desktop-database >/dev/null || update-desktop-database -q $(DATADIR)/applications; \
	! command -v gtk-update-icon-cache >/dev/null || gtk-update-icon-cache -qtf $(DATADIR)/icons/hicolor; fi
SUBST := sed -e 's|@bindir@|$(BINDIR)|g' -e 's|@libexecdir@|$(LIBEXECDIR)|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' \
	-e 's|@version@|$(VERSION)|g'

INSTALLED := $(BINDIR)/mtknvctl $(LIBEXECDIR)/mtknvd $(SYSTEMDUNITDIR)/mtknvd.service \
	$(UDEVRULESDIR)/70-mtknvd.rules $(DATADIR)/dbus-1/system.d/org.mtknvd.MtkNv1.conf \
	$(DATADIR)/dbus-1/system-services/org.mtknvd.MtkNv1.service \
	$(DATADIR)/dbus-1/interfaces/org.mtknvd.MtkNv1.xml $(DATADIR)/polkit-1/actions/org.mtknvd.MtkNv1.policy \
	$(MANDIR)/man8/mtknvd.8 $(MANDIR)/man5/mtknvd.conf.5 $(MANDIR)/man1/mtknvctl.1 \
	$(DESKTOP_INSTALLED)

install: $(BUILD)/mtknvd $(BUILD)/mtknvctl
	install -Dm755 $(BUILD)/mtknvctl $(DESTDIR)$(BINDIR)/mtknvctl
	install -Dm755 $(BUILD)/mtknvd $(DESTDIR)$(LIBEXECDIR)/mtknvd
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@libexecdir@|$(LIBEXECDIR)|' $(if $(filter /etc,$(SYSCONFDIR)),,-e '/^ConfigurationDirectory=/d') \
		systemd/mtknvd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/mtknvd.service
	install -Dm644 udev/70-mtknvd.rules $(DESTDIR)$(UDEVRULESDIR)/70-mtknvd.rules
	install -Dm644 dbus/org.mtknvd.MtkNv1.conf $(DESTDIR)$(DATADIR)/dbus-1/system.d/org.mtknvd.MtkNv1.conf
	install -Dm644 dbus/org.mtknvd.MtkNv1.service $(DESTDIR)$(DATADIR)/dbus-1/system-services/org.mtknvd.MtkNv1.service
	install -Dm644 dbus/org.mtknvd.MtkNv1.xml $(DESTDIR)$(DATADIR)/dbus-1/interfaces/org.mtknvd.MtkNv1.xml
	install -Dm644 dbus/org.mtknvd.MtkNv1.policy $(DESTDIR)$(DATADIR)/polkit-1/actions/org.mtknvd.MtkNv1.policy
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	$(SUBST) daemon/mtknvd.8 > $(DESTDIR)$(MANDIR)/man8/mtknvd.8
	$(SUBST) daemon/mtknvd.conf.5 > $(DESTDIR)$(MANDIR)/man5/mtknvd.conf.5
	install -Dm644 client/mtknvctl.1 $(DESTDIR)$(MANDIR)/man1/mtknvctl.1
	install -d $(DESTDIR)$(SYSCONFDIR)/xdg/autostart $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(DATADIR)/applications $(DESTDIR)$(DATADIR)/kio/servicemenus \
		$(DESTDIR)$(DATADIR)/nemo/actions $(DESTDIR)$(LIBEXECDIR)
	$(SUBST) client/data/mtknvd-agent.desktop > $(DESTDIR)$(SYSCONFDIR)/xdg/autostart/mtknvd-agent.desktop
	$(SUBST) client/data/mtknvd-agent.service > $(DESTDIR)$(USERUNITDIR)/mtknvd-agent.service
	$(SUBST) client/data/org.mtknvd.mtknvctl.desktop > $(DESTDIR)$(DATADIR)/applications/org.mtknvd.mtknvctl.desktop
	$(SUBST) client/data/kde-restore.desktop > $(DESTDIR)$(DATADIR)/kio/servicemenus/mtknvd-restore.desktop
	$(SUBST) client/data/kde-import-spflash.desktop > $(DESTDIR)$(DATADIR)/kio/servicemenus/mtknvd-import-spflash.desktop
	$(SUBST) client/data/restore.nemo_action > $(DESTDIR)$(DATADIR)/nemo/actions/mtknvd-restore.nemo_action
	$(SUBST) client/data/import-spflash.nemo_action > $(DESTDIR)$(DATADIR)/nemo/actions/mtknvd-import-spflash.nemo_action
	$(SUBST) client/data/mtknvd-file-action > $(DESTDIR)$(LIBEXECDIR)/mtknvd-file-action
	chmod 755 $(DESTDIR)$(LIBEXECDIR)/mtknvd-file-action
	install -Dm644 client/data/mtknvd-mime.xml $(DESTDIR)$(DATADIR)/mime/packages/mtknvd.xml
	install -Dm644 client/data/mtknvctl.bash-completion $(DESTDIR)$(DATADIR)/bash-completion/completions/mtknvctl
	install -d $(DESTDIR)$(DATADIR)/metainfo
	$(SUBST) client/data/org.mtknvd.mtknvd.metainfo.xml > $(DESTDIR)$(DATADIR)/metainfo/org.mtknvd.mtknvd.metainfo.xml
	install -Dm644 client/data/org.mtknvd.mtknvd.svg $(DESTDIR)$(DATADIR)/icons/hicolor/scalable/apps/org.mtknvd.mtknvd.svg
	test -e $(DESTDIR)$(SYSCONFDIR)/mtknvd/mtknvd.conf || \
		install -Dm644 daemon/mtknvd.conf $(DESTDIR)$(SYSCONFDIR)/mtknvd/mtknvd.conf
	$(UPDATE_CACHES)

# The configuration file stays: it may hold the administrator's changes.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(UPDATE_CACHES)

clean:
	rm -rf build

# keep objects make would otherwise treat as intermediate
.SECONDARY:

.PHONY: all fuzz deps check demo bench clean install uninstall FORCE
FORCE:

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz-obj -name '*.d' 2>/dev/null)
