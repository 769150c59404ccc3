# phonesignals: `make demo` runs the whole pipeline on embedded defaults;
# `make test` runs every test, installing what it needs first.
GO        ?= go
BIN       := bin/phonesignals
DEMO_BIN  := bin/phonesignals-demo
GOFLAGS   ?=

.PHONY: all build build-demo demo test test-short bench chaos bench-e2e chdb clickhouse deps vet clean grafana grafana-zip grafana-deps grafana-check

all: build

VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

build:
	$(GO) build $(GOFLAGS) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/phonesignals

# The demo is its own binary: it links the simulated providers and the
# fixture's ground truth, test code the product binary leaves out.
build-demo:
	$(GO) build $(GOFLAGS) -o $(DEMO_BIN) ./cmd/phonesignals-demo

# ClickHouse 18.16 from the OS packages, when missing (root only; the
# package's service start is refused in containers, we start it ourselves).
clickhouse:
	@command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || { \
	  echo "installing clickhouse-server from the OS packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null; }

# libchdb (current ClickHouse, in-process) for the SQL portability tests.
chdb:
	bash internal/localserver/chdb/install-chdb.sh

# ZooKeeper from the OS packages, when missing (root only), for the
# ClickHouse cluster tests (internal/localserver/chcluster).
.PHONY: zookeeper
zookeeper:
	@[ -f /usr/share/java/zookeeper.jar ] || { \
	  echo "installing zookeeper from the OS packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null; }

deps: clickhouse chdb zookeeper

demo: clickhouse build build-demo
	./$(DEMO_BIN)

vet:
	$(GO) vet ./...

test: deps vet grafana-check
	$(GO) test -count=1 -timeout 20m ./...

test-short: vet
	$(GO) test -short -count=1 ./...

bench: clickhouse
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The chaos test at full size: 200,000 calls through sync, the broker, run
# and the local ClickHouse while a driver kills them with SIGKILL at random
# and restarts them (`make test` runs it with a few thousand calls).
chaos: clickhouse
	PHONESIGNALS_CHAOS_CALLS=$${PHONESIGNALS_CHAOS_CALLS:-200000} $(GO) test -count=1 -timeout 90m -run '^TestChaos$$' -v ./internal/testkit/chaos/

# The scale-out tests at full size: 50,000 calls through a 3-broker Kafka
# (a broker stopped mid-stream), loaders 5 s apart, and `run` processes
# killed mid-poll and mid-refresh (`make test` runs them with 3,000).
.PHONY: scaleout
scaleout: clickhouse
	PHONESIGNALS_SCALEOUT_CALLS=$${PHONESIGNALS_SCALEOUT_CALLS:-50000} $(GO) test -count=1 -timeout 60m -v ./internal/testkit/scaleout/

# The serve fleet test at full size: 3 serve processes over 20 orgs of both
# providers (one 401, one hanging, one rate-limited hard), one replica
# killed with SIGKILL and restarted (`make test` runs it with 8 orgs).
.PHONY: serve-fleet
serve-fleet: clickhouse
	PHONESIGNALS_SERVEFLEET_ORGS=$${PHONESIGNALS_SERVEFLEET_ORGS:-20} $(GO) test -count=1 -timeout 30m -v -run '^TestServeFleet$$' ./internal/testkit/servefleet/

# The Grafana data-source plugin, production build into grafana/dist:
# module.js, plugin.json, LICENSE, the dashboards, and the backend for this
# machine only (grafana-zip builds every platform for a release).
grafana:
	bash grafana/build.sh

# The release archive Grafana's plugin validator and grafana.com take:
# bin/phonesignals-phonesignals-datasource-VERSION.zip, one folder named by
# the plugin id with the backend for every platform, plugin.json, module.js,
# README, CHANGELOG, LICENSE, the logo and go_plugin_build_manifest;
# checked against the validator's offline rules (grafana/release).
grafana-zip:
	bash grafana/build.sh --all
	$(GO) run ./grafana/release zip -dist grafana/dist -platforms all -source .

# The frontend's npm packages from the committed lockfile (npm ci, run
# again only when the lockfile or node changes).
grafana-deps:
	bash grafana/npm-ci.sh

# The frontend's checks: TypeScript, ESLint, the production webpack build,
# and the Jest tests in jsdom against the real @grafana/ui and @grafana/data
# (the config and query editors, and the built dist/module.js loaded as
# Grafana loads it).
grafana-check: grafana-deps
	cd grafana && npm run --silent typecheck && npm run --silent lint && npm run --silent build >/dev/null && npm run --silent test:ci

clean:
	rm -rf bin grafana/dist

# End-to-end stream benchmark: CALLS Aircall-like calls published sealed to
# an in-memory broker, `run --until-idle` timed as a process until the rows
# are in ClickHouse 18.16, every row checked. BASELINE=<git ref> also builds
# and measures that ref, alternating, and prints the ratios.
CALLS    ?= 1000000
RUNS     ?= 1
BASELINE ?=
bench-e2e: clickhouse build
	@set -e; base=""; \
	if [ -n "$(BASELINE)" ]; then \
	  tmp=$$(mktemp -d); git worktree add -q --detach $$tmp/src $(BASELINE); \
	  (cd $$tmp/src && $(GO) build -o $$tmp/phonesignals ./cmd/phonesignals); \
	  git worktree remove --force $$tmp/src; base="-baseline-bin $$tmp/phonesignals"; \
	fi; \
	$(GO) run ./cmd/bench-e2e -bin $(BIN) -calls $(CALLS) -runs $(RUNS) $$base $(BENCHFLAGS)

# Scale-out benchmark: the same CALLS through one `run --until-idle` and
# through INSTANCES (default 1,2) sharing the consumer group, alternating
# RUNS times over the same records, every row checked; prints CPU per call
# of each count and the ratio (on 2 cores total throughput cannot show
# scaling, CPU per call says what a second member costs).
INSTANCES ?= 1,2
.PHONY: bench-scale
bench-scale: clickhouse build
	$(GO) run ./cmd/bench-e2e -bin $(BIN) -calls $(CALLS) -runs $(RUNS) -instances $(INSTANCES) $(BENCHFLAGS)

# Freshness benchmark: RATE call.ended webhooks a second for DURATION
# against the webhook server, the embedded broker, the transform as `run`
# wires it (--max-wait MAX_WAIT, default 1s) and ClickHouse 18.16; prints
# p50/p99 of 2xx -> row in raw_signals -> number in the review.
RATE     ?= 20
DURATION ?= 30s
MAX_WAIT ?=
.PHONY: bench-freshness
bench-freshness: clickhouse
	FRESHNESS_RATE=$(RATE) FRESHNESS_DURATION=$(DURATION) FRESHNESS_MAX_WAIT=$(MAX_WAIT) \
	  $(GO) test -count=1 -run '^$$' -bench '^BenchmarkFreshness$$' -benchtime 1x -timeout 15m ./internal/testkit/freshness/

# The ClickHouse cluster tests: ZooKeeper and 2 shards x 2 replicas of
# 18.16 on loopback (migrate ON CLUSTER, routing, dedup, a replica killed,
# ZooKeeper restarted).
.PHONY: cluster-test
cluster-test: clickhouse zookeeper
	CI=$${CI:-1} PHONESIGNALS_CLUSTER_FULL=1 $(GO) test -count=1 -timeout 30m -v -run 'Cluster' \
	  ./internal/localserver/chcluster/... ./internal/store/ ./queries/ ./cmd/phonesignals/

