# mctun: multicast over TCP, with an eBPF capture path.
#
#   make            build build/mctun (BPF object embedded via a skeleton)
#   make deps       install the Debian packages the build and tests need
#   make test       deps + build + the namespace test suite (as root)
#   make demo       deps + build + two islands joined by the tunnel
#   make install    the binary, mctun(8), an example config, the systemd unit
#                   mctun@.service and its sysusers.d file (PREFIX, DESTDIR)
#   make uninstall  what make install put there (not the user, nor configs)
#   make static     build/mctun-static: linked statically, runs with nothing
#                   around it (a FROM scratch image, another distribution)
#   make deb        build/mctun_VERSION_ARCH.deb: what make install PREFIX=/usr
#                   installs, packaged with dpkg-deb (Depends by dpkg-shlibdeps)
#   make image      the container image mctun:VERSION (docker/Dockerfile, FROM
#                   scratch, the static binary; IMAGE=, DOCKER=)
#   make vmtest     the test suite in a VM booting Debian 12's kernel (vmtest/)
#   make vmtest-ci  the tests of it CI runs in the VM (vmtest/ci-tests)
#   make bench      the benchmark against the direct path and udptunnel (bench/)
#   make clean
#
# Quiet by default; V=1 shows the commands.

BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CFLAGS    ?= -O2 -g
# user/: main.c and one folder per role (see README, "Layout"); object
# files are named after their source, which is unique across the folders.
USER_DIRS := user user/lib user/tunnel user/inspect user/lab
vpath %.c $(USER_DIRS)

CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	     -D_GNU_SOURCE -DMCTUN_VERSION='"$(VERSION)"' -Iinclude $(USER_DIRS:%=-I%) \
	     -I$(BUILD) -MMD -MP
LDLIBS    += -lbpf -lelf -lz -lssl -lcrypto -ljson-c
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	     -Wno-unused-parameter -Iinclude $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

SRCS      := $(wildcard $(USER_DIRS:%=%/*.c))
OBJS      := $(addprefix $(BUILD)/,$(notdir $(SRCS:.c=.o)))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# make install: PREFIX=/usr for a distribution's layout; DESTDIR to stage.
PREFIX      ?= /usr/local
sbindir     ?= $(PREFIX)/sbin
mandir      ?= $(PREFIX)/share/man
sysconfdir  ?= /etc
unitdir     ?= $(PREFIX)/lib/systemd/system
sysusersdir ?= $(PREFIX)/lib/sysusers.d
INSTALL     ?= install

.DELETE_ON_ERROR:
.PHONY: all deps test demo clean install uninstall static deb image

all: $(BUILD)/mctun

$(BUILD):
	$(Q)mkdir -p $@

$(BUILD)/mctun.bpf.o: bpf/mctun.bpf.c include/mctun.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/mctun.skel.h: $(BUILD)/mctun.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mctun_bpf > $@

# Every user object may include the skeleton; build it first.
$(OBJS): $(BUILD)/%.o: %.c $(BUILD)/mctun.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/mctun: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same objects, linked with -static against Debian's .a files; the
# libraries' own static dependencies come from pkg-config (evaluated only
# here). glibc warns that getaddrinfo, gethostbyname (OpenSSL's, unused)
# and dlopen (OpenSSL's, for engines mctun does not use) would need its
# shared NSS modules at run time: its built-in files and dns sources still
# resolve peer names from /etc/hosts and DNS (README, "Installing"). Those
# known warnings are left out of the output; any other is shown.
STATIC_LDLIBS = $(shell pkg-config --static --libs libbpf libssl libcrypto json-c)
STATIC_KNOWN  = -e "in function \`\(hostport_resolve\|dlfcn_globallookup\|BIO_gethostbyname\)':" \
		-e "warning: Using '\(getaddrinfo\|dlopen\|gethostbyname\)' in statically linked"

static: $(BUILD)/mctun-static

$(BUILD)/mctun-static: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -static $^ $(STATIC_LDLIBS) -o $@ 2>$@.log || \
		{ cat $@.log >&2; rm -f $@.log; exit 1; }
	$(Q)grep -v $(STATIC_KNOWN) $@.log >&2; rm -f $@.log

# make deb: make install DESTDIR=$(DEB_ROOT) PREFIX=/usr, plus DEBIAN/:
# control (etc/deb/control.in; Depends from dpkg-shlibdeps), conffiles
# (what is installed under /etc), md5sums, and the maintainer scripts of
# etc/deb (postinst creates the user mctun with systemd-sysusers).
DEB_ARCH  = $(shell dpkg --print-architecture)
DEB       = $(BUILD)/mctun_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT  = $(BUILD)/deb

deb: $(BUILD)/mctun docs/mctun.8 etc/mctun.conf.example etc/mctun@.service.in \
	etc/mctun.sysusers etc/deb/control.in etc/deb/postinst etc/deb/postrm
	$(call msg,DEB,$(DEB))
	$(Q)command -v dpkg-shlibdeps >/dev/null || \
		{ echo "make deb: dpkg-shlibdeps is missing (Debian's dpkg-dev; make deps)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_ROOT) $(BUILD)/deb-shlibs && mkdir -p $(BUILD)/deb-shlibs/debian
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	$(Q)$(INSTALL) -d -m 0755 $(DEB_ROOT)/DEBIAN
	$(Q)find $(DEB_ROOT) -type d -exec chmod 0755 {} +
	$(Q)(cd $(DEB_ROOT) && find etc -type f | sed 's|^|/|' | LC_ALL=C sort) >$(DEB_ROOT)/DEBIAN/conffiles
	$(Q)(cd $(DEB_ROOT) && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\n' | \
		LC_ALL=C sort | xargs md5sum) >$(DEB_ROOT)/DEBIAN/md5sums
	$(Q)touch $(BUILD)/deb-shlibs/debian/control
	$(Q)cd $(BUILD)/deb-shlibs && dpkg-shlibdeps -O $(abspath $(DEB_ROOT))/usr/sbin/mctun >shlibs.out
	$(Q)deps=$$(sed -n 's/^shlibs:Depends=//p' $(BUILD)/deb-shlibs/shlibs.out) && [ -n "$$deps" ] || \
		{ echo "make deb: dpkg-shlibdeps found no dependency" >&2; exit 1; }; \
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' -e "s|@DEPENDS@|$$deps|" \
		-e "s|@SIZE@|$$(du -k -s --apparent-size --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" \
		etc/deb/control.in >$(DEB_ROOT)/DEBIAN/control
	$(Q)$(INSTALL) -m 0755 etc/deb/postinst etc/deb/postrm $(DEB_ROOT)/DEBIAN/
	$(Q)rm -f $(BUILD)/mctun_*.deb
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(DEB) >/dev/null
	$(Q)rm -rf $(BUILD)/deb-shlibs

# make image: the static binary, stripped, alone in the build context;
# tagged IMAGE and NAME:latest (docker/compose.yaml's default).
IMAGE     ?= mctun:$(VERSION)
DOCKER    ?= docker
STRIP     ?= strip

image: $(BUILD)/mctun-static docker/Dockerfile
	$(call msg,IMAGE,$(IMAGE))
	$(Q)rm -rf $(BUILD)/image && mkdir -p $(BUILD)/image
	$(Q)$(STRIP) -o $(BUILD)/image/mctun $(BUILD)/mctun-static
	$(Q)$(DOCKER) build -q -f docker/Dockerfile -t $(IMAGE) \
		-t $(firstword $(subst :, ,$(IMAGE))):latest $(BUILD)/image >/dev/null

deps:
	$(Q)tests/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh $(TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh

install: $(BUILD)/mctun
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -D -m 0755 $(BUILD)/mctun $(DESTDIR)$(sbindir)/mctun
	$(Q)$(INSTALL) -D -m 0644 docs/mctun.8 $(DESTDIR)$(mandir)/man8/mctun.8
	$(Q)$(INSTALL) -D -m 0644 etc/mctun.conf.example \
		$(DESTDIR)$(sysconfdir)/mctun/mctun.conf.example
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(unitdir)
	$(Q)sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' \
		etc/mctun@.service.in >$(DESTDIR)$(unitdir)/mctun@.service
	$(Q)chmod 0644 $(DESTDIR)$(unitdir)/mctun@.service
	$(Q)$(INSTALL) -D -m 0644 etc/mctun.sysusers $(DESTDIR)$(sysusersdir)/mctun.conf

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(sbindir)/mctun $(DESTDIR)$(mandir)/man8/mctun.8 \
		$(DESTDIR)$(sysconfdir)/mctun/mctun.conf.example \
		$(DESTDIR)$(unitdir)/mctun@.service $(DESTDIR)$(sysusersdir)/mctun.conf

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(OBJS:.o=.d)

include vmtest/vmtest.mk
include fuzz/fuzz.mk
include bench/bench.mk
