# Two commands do everything on a fresh machine; each sets itself up first.
#   make demo   - run the main job (`recap demo`): embedded stack, worker, sample project, render
#   make test   - run the whole test suite
.PHONY: demo test lint typecheck schema bootstrap

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/recap demo $(ARGS)

test: bootstrap
	@scripts/test-deps.sh
	cd web && npm run -s test && npm run -s lint
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint: bootstrap
	.venv/bin/ruff check app runners media colab tests bench
	cd web && npm run -s lint && npm run -s typecheck

typecheck: bootstrap
	.venv/bin/mypy

schema: bootstrap
	.venv/bin/recap export-schema --out schema.graphql
