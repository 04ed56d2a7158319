#!/bin/sh
# Installs every flowkit tool with its man pages and bash, zsh and fish completions.
#
#   ./install.sh                 # into ~/.local (bin/, share/man/man1/, share/.../completions)
#   cargo build --release --locked && sudo ./install.sh --no-build /usr/local   # system-wide
#   ./install.sh --uninstall [PREFIX]
#
# One `cargo build --release --locked` of the workspace, then each tool is copied to PREFIX/bin
# and asked for its man pages and completions (FLOWKIT_WRITE_DOCS=DIR, rendered from the same
# clap definitions its -h comes from). DESTDIR stages into another root (packaging);
# FLOWKIT_PROFILE picks the cargo profile (default release); FLOWKIT_LINK_BINARIES=1 links the
# binaries from the target directory instead of copying them (tests: debug binaries are ~2 GB).
# The list of installed files is kept in PREFIX/share/flowkit/installed-files for --uninstall. See docs/install.md.
set -eu

cd "$(dirname "$0")"
uninstall=no
build=yes
while :; do
    case "${1:-}" in
    --uninstall) uninstall=yes ;;
    --no-build) build=no ;;
    *) break ;;
    esac
    shift
done
case "${1:-}" in -h | --help)
    sed -n '2,/^set -eu/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
PREFIX=${1:-${PREFIX:-$HOME/.local}}
DESTDIR=${DESTDIR:-}
root="$DESTDIR$PREFIX"
manifest="$root/share/flowkit/installed-files"

if [ "$uninstall" = yes ]; then
    [ -f "$manifest" ] || { echo "install.sh: nothing recorded in $manifest" >&2; exit 1; }
    while IFS= read -r f; do rm -f "$DESTDIR$f"; done <"$manifest"
    rm -f "$manifest"
    rmdir "$root/share/flowkit" 2>/dev/null || true
    echo "removed flowkit from $PREFIX"
    exit 0
fi

if [ "$build" = yes ] && ! command -v cargo >/dev/null; then
    echo "install.sh: cargo is required: curl --proto '=https' -sSf https://sh.rustup.rs | sh" >&2
    echo "  (as root after a build as yourself: ./install.sh --no-build PREFIX)" >&2
    exit 1
fi
profile=${FLOWKIT_PROFILE:-release}
case "$profile" in dev | test) outdir=debug ;; *) outdir=$profile ;; esac
target=${CARGO_TARGET_DIR:-target}
tools=$(for d in flow-*/; do [ -f "$d/src/main.rs" ] && basename "$d"; done)

if [ "$build" = yes ]; then
    echo "== cargo build --profile $profile --locked (all tools)"
    cargo build --profile "$profile" --locked --workspace --bins
fi

docs=$(mktemp -d)
trap 'rm -rf "$docs"' EXIT
mkdir -p "$root/bin" "$root/share/man/man1" "$root/share/flowkit" \
    "$root/share/bash-completion/completions" "$root/share/zsh/site-functions" \
    "$root/share/fish/vendor_completions.d"
: >"$manifest.new"
put() { # put MODE SRC DEST: install SRC as DEST (a path under PREFIX), record it
    install -m "$1" "$2" "$root/$3"
    echo "$PREFIX/$3" >>"$manifest.new"
}
for t in $tools; do
    bin="$target/$outdir/$t"
    [ -x "$bin" ] || { echo "install.sh: $bin was not built (cargo build --profile $profile)" >&2; exit 1; }
    if [ "${FLOWKIT_LINK_BINARIES:-}" = 1 ]; then
        ln -sf "$(cd "$(dirname "$bin")" && pwd)/$t" "$root/bin/$t"
        echo "$PREFIX/bin/$t" >>"$manifest.new"
    else
        put 755 "$bin" "bin/$t"
    fi
    FLOWKIT_WRITE_DOCS="$docs" "$bin" >/dev/null
done
for page in "$docs"/man/man1/*.1; do
    put 644 "$page" "share/man/man1/$(basename "$page")"
done
for f in "$docs"/completions/bash/*; do
    put 644 "$f" "share/bash-completion/completions/$(basename "$f")"
done
for f in "$docs"/completions/zsh/*; do
    put 644 "$f" "share/zsh/site-functions/$(basename "$f")"
done
for f in "$docs"/completions/fish/*; do
    put 644 "$f" "share/fish/vendor_completions.d/$(basename "$f")"
done
put 644 filters/filter.cfg "share/flowkit/filter.cfg"
mv "$manifest.new" "$manifest"

n=$(echo $tools | wc -w)
pages=$(ls "$docs"/man/man1 | wc -l)
size=$(for t in $tools; do cat "$root/bin/$t"; done | wc -c)
echo "installed $n tools ($((size / 1024 / 1024)) MiB) into $root/bin, $pages man pages, bash/zsh/fish completions"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "note: $PREFIX/bin is not on PATH: export PATH=\"$PREFIX/bin:\$PATH\"" ;; esac
