# Shortcuts for what the README describes.
.PHONY: test fuzz ci

# The README's test command.
test:
	go test -race ./...

# Every Fuzz target for FUZZTIME (default 60s) each.
fuzz:
	.ci/fuzz

# What CI runs: installs and starts the real peers, then lint and tests.
ci:
	bash .ci/run
