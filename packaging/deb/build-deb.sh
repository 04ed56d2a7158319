#!/bin/sh
# Builds the Debian package of flowkit with dpkg-deb (no cargo-deb needed):
#
#   packaging/deb/build-deb.sh [OUTDIR]     # default target/debian/flowkit_VERSION_ARCH.deb
#
# The tools, man pages and completions come from install.sh (one release build) staged under
# /usr; added are the flow-capture systemd unit (user flowkit, tree in /var/lib/flowkit),
# /etc/default/flow-capture for its flags, and the maintainer scripts that create the user.
# See docs/install.md.
set -eu
cd "$(dirname "$0")/../.."
out=${1:-target/debian}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT

DESTDIR="$stage" ./install.sh /usr
rm "$stage/usr/share/flowkit/installed-files"
# Debian's places: zsh reads vendor-completions, man pages are gzipped.
mkdir -p "$stage/usr/share/zsh/vendor-completions"
mv "$stage"/usr/share/zsh/site-functions/* "$stage/usr/share/zsh/vendor-completions/"
rmdir "$stage/usr/share/zsh/site-functions"
gzip -9n "$stage"/usr/share/man/man1/*.1
install -D -m 644 packaging/flow-capture.service "$stage/usr/lib/systemd/system/flow-capture.service"
install -D -m 644 packaging/deb/default-flow-capture "$stage/etc/default/flow-capture"
doc="$stage/usr/share/doc/flowkit"
mkdir -p "$doc"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: flowkit

Files: *
Copyright: the flowkit authors
License: MIT or Apache-2.0
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
printf 'flowkit (%s) unstable; urgency=medium\n\n  * Package built from the source tree.\n\n -- flowkit <flowkit@localhost>  %s\n' \
    "$version" "$(date -R)" | gzip -9n >"$doc/changelog.Debian.gz"
chmod -R go-w "$stage"

# The newest glibc symbol version the binaries use is the libc6 they need.
glibc=$(objdump -T "$stage"/usr/bin/* 2>/dev/null | sed -n 's/.*GLIBC_\([0-9.]*\).*/\1/p' | sort -uV | tail -n 1)
mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: flowkit
Version: $version
Architecture: $arch
Maintainer: flowkit <flowkit@localhost>
Depends: libc6 (>= ${glibc:-2.31}), adduser
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Homepage: https://github.com/flowkit/flowkit
Description: NetFlow v5/v9/IPFIX flow record toolkit in the flow-tools tradition
 flow-capture collects NetFlow/IPFIX into a dated tree of compact archives;
 flow-cat, flow-nfilter, flow-print, flow-stat, flow-sort, flow-hunt and
 friends read, filter, print and summarise them (flow-tools filter language,
 flow-tools and nfdump files read unchanged). Includes man pages, bash, zsh and
 fish completions, and a systemd unit for flow-capture (user flowkit, data in
 /var/lib/flowkit; not started until enabled).
CONTROL
echo /etc/default/flow-capture >"$stage/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 755 "packaging/deb/$s" "$stage/DEBIAN/$s"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum >DEBIAN/md5sums)

mkdir -p "$out"
deb="$out/flowkit_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1))"
