# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements.  The ASF licenses this file to you under
# the Apache License, Version 2.0 (the "License").

SHELL := /bin/bash
GO ?= go
BIN_DIR := bin
SERVER := $(BIN_DIR)/banyand-server
CLIENT := $(BIN_DIR)/bydbql
DATA_DIR ?= $(CURDIR)/data
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/apache/skywalking-banyandb/api/proto/banyandb.Revision=$(REVISION)
# Test packages: unit tests everywhere, the integration suites under test/integration.
TEST_TIMEOUT ?= 20m

.PHONY: all build run load-fixtures test test-unit test-integration fuzz generate check-generate lint fmt vet tidy bench clean

all: build

## build: compile banyand-server and the bydbql client into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(SERVER) ./banyand/cmd/server
	$(GO) build -o $(CLIENT) ./banyand/cmd/bydbql

## run: start a standalone server (embedded etcd, data under ./data, gRPC on 17912, HTTP on 17913, metrics on 2121)
run: build
	mkdir -p $(DATA_DIR)
	$(SERVER) standalone --metadata-root-path=$(DATA_DIR) --trace-root-path=$(DATA_DIR) --logging-env=dev $(ARGS)

## load-fixtures: load the schema and span fixtures into a running server (ADDR, default localhost:17912)
load-fixtures:
	$(GO) run ./test/cmd/loadfixtures --addr=$(or $(ADDR),localhost:17912)

# Fuzz targets, as <package>:<target>; `make test` runs each for FUZZ_TIME_TEST, `make fuzz` for FUZZ_TIME.
FUZZ_TARGETS := ./banyand/liaison/grpc:FuzzValidateName \
	./banyand/liaison/grpc:FuzzValidateTraceQuery \
	./banyand/liaison/grpc:FuzzDecodeWrite \
	./banyand/trace:FuzzCompileCriteria \
	./banyand/trace:FuzzParseWrite \
	./pkg/bydbql:FuzzParse
FUZZ_TIME_TEST ?= 8s
FUZZ_TIME ?= 2m

## test: every unit test and integration suite, then each fuzz target for a bounded time
test: build
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -p 2 ./...
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_TIME_TEST)

## fuzz: run every fuzz target for FUZZ_TIME each (new findings go to the package's testdata/fuzz)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZ_TIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}\$$" -fuzztime=$(FUZZ_TIME) "$${t%%:*}"; \
	done

## test-unit: the unit tests only
test-unit:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test/integration)

## test-integration: the Ginkgo suites against real servers
test-integration: build
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/integration/...

## generate: regenerate the protobuf Go code with the pinned buf and plugins
generate:
	cd api && $(GO) tool -modfile=../tools/go.mod buf generate

## check-generate: fail if the committed generated code differs from what generate produces
check-generate: generate
	git diff --exit-code -- api/proto
	@out=$$(git status --porcelain -- api/proto); if [ -n "$$out" ]; then echo "generated files not committed:"; echo "$$out"; exit 1; fi

## lint: formatting, vet and staticcheck (unused code and likely bugs; pinned, fetched from the Go module proxy)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: fmt vet tidy
	$(GO) run $(STATICCHECK) -checks "U1000,SA*" ./...

## tidy: fail if `go mod tidy` would change go.mod or go.sum (of the module or of tools/)
tidy:
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: start a fresh standalone server, run the trace workload against it, print the figures
##        (ADDR=host:port runs it against a server that is already running)
bench:
	ADDR=$(ADDR) bash test/stress/trace/run_bench.sh $(BENCH_ARGS)

clean:
	rm -rf $(BIN_DIR)
