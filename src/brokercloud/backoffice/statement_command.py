"""``brokercloud statement ACCOUNT --month YYYY-MM -o FILE.pdf``: one account's monthly
statement from a platform's data directory (``serve --data-dir``: the back office's books in
``backoffice/``, the core's account records, for the name and branch, in ``core/``).

The platform may be running on that directory, so nothing there is opened for writing:
opening a journal truncates a torn tail, and a tail still being written looks torn. Each
store is copied to a temporary directory and opened there (journal replay as at a restart).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from brokercloud.backoffice.customers import CustomerError, month_period
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.statement import statement
from brokercloud.backoffice.statement_pdf import render
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code, describe
from brokercloud.core.model import Account
from brokercloud.core.sequencer import Core


def _copy(directory: Path, scratch: Path) -> Path:
    target = scratch / directory.name
    shutil.copytree(directory, target, ignore=shutil.ignore_patterns("*.tmp"))
    return target


def _read_books(data_dir: Path, scratch: Path) -> tuple[Ledger, dict[str, Account]]:
    """The back office's ledger and the core's account records (none without a core)."""
    office = BackOffice(_copy(data_dir / "backoffice", scratch), fsync=False)
    office.close()
    if not (data_dir / "core").is_dir():
        return office.ledger, {}
    core = Core(_copy(data_dir / "core", scratch), fsync=False)
    core.close()
    return office.ledger, core.state.accounts


def write_statement(account: str, month: str, data_dir: str, output: str) -> int:
    """Write the PDF; a refusal prints its code and sentence and returns 2."""
    root = Path(data_dir)
    if not (root / "backoffice").is_dir():
        print(f"no back office in {root}: expected {root / 'backoffice'}", file=sys.stderr)
        return 2
    try:
        month_period(month)  # a bad month is refused before the books are read
        with tempfile.TemporaryDirectory(prefix="brokercloud-statement-") as scratch:
            ledger, core_accounts = _read_books(root, Path(scratch))
        books = ledger.accounts.get(account)
        if books is None:
            raise CustomerError(Code.UNKNOWN_CUSTOMER)
        record = core_accounts.get(account)
        document = render(statement(
            ledger, books.broker, account, month,
            name=record.name if record is not None else "",
            branch=record.branch if record is not None else ""))
    except CustomerError as error:
        print(f"[{int(error.code)}] {error.code.name}: {describe(error.code)}", file=sys.stderr)
        return 2
    Path(output).write_bytes(document)
    print(f"wrote {output}: statement of {account} for {month} ({len(document):,} bytes)")
    return 0
