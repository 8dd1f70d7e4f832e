# shellcheck shell=bash
# ensure_venv [dev]: a .venv at the repository root holding exactly the locked dependencies
# (requirements/dev.txt with "dev", else requirements/runtime.txt, every one pinned with its
# hashes) and the package itself, editable. Installs again when the lock or pyproject.toml
# changes; update the lock with scripts/lock.
ensure_venv() {
    local lock=requirements/runtime.txt stamp want
    [ "${1:-}" = dev ] && lock=requirements/dev.txt
    stamp=".venv/.installed-$(basename "$lock" .txt)"
    want=$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv" >&2
        "${PYTHON:-python3}" -m venv .venv || return 1
    fi
    # A venv with the dev lock installed holds the runtime lock too.
    if [ "$lock" = requirements/runtime.txt ] && [ "$(cat .venv/.installed-dev 2>/dev/null)" = \
        "$(cat requirements/dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)" ]; then
        return 0
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing $lock into .venv" >&2
        .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes \
            -r "$lock" >&2 || return 1
        PYTHONWARNINGS=ignore .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
            --no-build-isolation -e . >&2 || return 1
        rm -f .venv/.installed-*
        echo "$want" >"$stamp"
    fi
}
