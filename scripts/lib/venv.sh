# shellcheck shell=bash
# ensure_venv [EXTRAS]: a .venv at the repository root with the package installed
# (editable, with EXTRAS such as "dev"); reinstalls when pyproject.toml changes.
ensure_venv() {
    local extras="${1:-}" spec="." stamp
    [ -n "$extras" ] && spec=".[$extras]"
    stamp=".venv/.installed${extras:+-$extras}"
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv" >&2
        "${PYTHON:-python3}" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "installing $spec into .venv" >&2
        .venv/bin/python -m pip install -q --upgrade pip >&2
        .venv/bin/python -m pip install -q -e "$spec" >&2
        touch "$stamp"
    fi
}
