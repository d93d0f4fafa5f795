#!/usr/bin/env bash
# Renders img/pipeline.dot to SVG and PNG (needs Graphviz: apt-get install graphviz).
set -euo pipefail
cd "$(dirname "$0")/.."
dot -Tsvg img/pipeline.dot -o img/pipeline.svg
dot -Tpng -Gdpi=110 img/pipeline.dot -o img/pipeline.png
