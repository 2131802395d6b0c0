#!/usr/bin/env bash
# Mutation testing of ergo's pure core with mutmut 3 (issue 18): policy and its decisions, work hours,
# durations, timed breaks, plan timing, stats and the config-import mappers ([tool.mutmut] in
# pyproject.toml names the files and the tests). Not part of CI: it takes long (docs/development.md).
#
#   bash benchmarks/mutation.sh                    # every mutant, then the score per module
#   bash benchmarks/mutation.sh "ergo.timing.policy*"   # only these mutants (mutmut's name globs)
#   JOBS=1 bash benchmarks/mutation.sh             # parallel mutants (default 2: a shared 2-core machine)
#   bash benchmarks/mutation.sh --again            # after new tests: rerun the survivors and untested ones only
#   bash benchmarks/mutation.sh --score            # only the score of the last run
#
# mutmut copies ergo/ into mutants/ and puts that first on sys.path, so ergo must not be installed in the
# venv it runs from (an editable install's import hook would shadow the copy): its own venv gets the
# dependencies, mutmut, and no ergo. Survivors that cannot be killed (equivalent mutants) are listed with
# a one-line reason in benchmarks/mutation_survivors.txt; the score counts them as survivors all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-mutation}
# (Re)install when the venv is new or the test dependencies changed (pytest-xdist came with `--dist` in addopts).
stamp="$VENV/.deps-$(sed -n '/^test = \[/,/^\]/p' pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -x "$VENV/bin/mutmut" ] || [ ! -e "$stamp" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check '.[test]' 'mutmut>=3.8,<4'
  "$VENV/bin/python" -m pip uninstall -q -y ergo-reminders
  touch "$stamp"
fi
if [ "${1:-}" = "--again" ]; then  # mutmut keeps a mutant's result unless it is named: name the ones to retry
  mapfile -t retry < <("$VENV/bin/mutmut" results --all true 2>/dev/null |
                       awk -F': ' '$2 == "survived" || $2 == "no tests" {sub(/^ +/, "", $1); print $1}')
  [ ${#retry[@]} -gt 0 ] || { echo "mutation: nothing to retry"; exit 0; }
  set -- "${retry[@]}"
fi
if [ "${1:-}" != "--score" ]; then
  "$VENV/bin/mutmut" run --max-children "${JOBS:-2}" "$@" >mutants.log 2>&1 || { tail -40 mutants.log; exit 1; }
fi
"$VENV/bin/mutmut" results --all true >mutants/results.txt 2>/dev/null
"$VENV/bin/python" benchmarks/mutation_score.py mutants/results.txt benchmarks/mutation_survivors.txt
