"""The ``recap`` command line.

Each command group lives in its own module with a ``register(app)`` function;
heavy imports happen inside the commands so ``recap --help`` stays fast.
"""

from __future__ import annotations

import typer

from app.cli import accounts, align, analyse, demo, render, server, upscale

app = typer.Typer(name="recap", help="Recap: movie + recap script -> narrated recap video.", no_args_is_help=True)

for _module in (server, accounts, analyse, align, render, demo, upscale):
    _module.register(app)


@app.command()
def version() -> None:
    """Print Recap's version."""
    from importlib.metadata import version as _v

    typer.echo(_v("recap"))


def main() -> None:
    app()
