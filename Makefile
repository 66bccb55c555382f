# Gatehouse. `make run` serves on the embedded default; `make test` runs
# everything against real parts (PostgreSQL, SQLite, …) started by scripts/.
GO       ?= go
BIN      := bin/gatehouse
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE     ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# PAM is built in when libpam's headers are present.
TAGS     ?= $(shell test -f /usr/include/security/pam_appl.h && echo pam)
BENCHTIME ?= 2s

.PHONY: all build run test vet bench clean fuzz

all: build

# The first build on a cold machine downloads modules and then compiles
# for a few minutes (SQLite, PostgreSQL and LDAP drivers) without a word:
# say so first.
build:
	@echo "building $(BIN) (the first build downloads modules and takes a few minutes)..."
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gatehouse

# A local run stops at the first Ctrl-C: no auth.shutdown_delay drain (5 s
# by default, for load balancers), unless the environment asks for one.
RUN_HOST = $${GATEHOUSE_AUTH_HOST:-127.0.0.1}
RUN_PORT = $${GATEHOUSE_AUTH_PORT:-9100}
run: build
	@echo "starting $(BIN) serve on http://$(RUN_HOST):$(RUN_PORT) (data in ./data; Ctrl-C stops it)"
	@echo "web page: open http://$(RUN_HOST):$(RUN_PORT)/ui/ and log in (first run: user admin, password printed below)"
	GATEHOUSE_AUTH_SHUTDOWN_DELAY=$${GATEHOUSE_AUTH_SHUTDOWN_DELAY:-0} ./$(BIN) serve

vet:
	$(GO) vet -tags '$(TAGS)' ./...
	@# go.mod and go.sum must say exactly what the code imports.
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'" >&2; exit 1; }

test: vet
	TAGS='$(TAGS)' scripts/test.sh

bench:
	TAGS='$(TAGS)' BENCHTIME='$(BENCHTIME)' scripts/bench.sh
	scripts/bench-introspect.sh
	scripts/bench-scale.sh
	scripts/bench-purge.sh

fuzz:
	scripts/fuzz.sh

clean:
	rm -rf bin

# Reliability (docs/RELIABILITY.md): faults breaks PostgreSQL, LDAP and the
# process under load; soak runs a checked mix for SOAK_DURATION (default 10m).
# Both use a private PostgreSQL cluster and loopback only.
.PHONY: faults soak

faults:
	scripts/faults.sh

soak:
	scripts/soak.sh
