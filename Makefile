# phonesignals: `make demo` runs the whole pipeline on embedded defaults;
# `make test` runs every test, installing what it needs first.
GO        ?= go
BIN       := bin/phonesignals
GOFLAGS   ?=

.PHONY: all build demo test test-short bench chdb clickhouse deps vet clean grafana

all: build

VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build $(GOFLAGS) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/phonesignals

# ClickHouse 18.16 from the OS packages, when missing (root only; the
# package's service start is refused in containers, we start it ourselves).
clickhouse:
	@command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || { \
	  echo "installing clickhouse-server from the OS packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null; }

# libchdb (current ClickHouse, in-process) for the SQL portability tests.
chdb:
	bash internal/chdb/install-chdb.sh

deps: clickhouse chdb

demo: clickhouse build
	./$(BIN) demo

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 -timeout 20m ./...

test-short: vet
	$(GO) test -short -count=1 ./...

bench: clickhouse
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The Grafana data-source plugin (backend binary, plugin.json, module.js).
grafana:
	bash grafana/build.sh

clean:
	rm -rf bin grafana/dist
