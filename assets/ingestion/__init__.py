"""Ingestion: the landing folder into the DuckDB raw layer, with an audit of every batch.

Modules, one job each: `landing_scan` (find batches, refuse bad folders and paths), `reader` (read a
part file with DuckDB's readers), `rules` (row rules as SQL → quarantine), `manifest` (verify
`_manifest.json`), `audit` (the audit tables and fingerprints), `loader` (load one batch
atomically), `partitions` (the `month` dynamic partitions) and `assets` (the Dagster assets). This
package's root imports no Dagster; see docs/ingestion.md.
"""

from .audit import batch_fingerprint
from .errors import Refused
from .landing_scan import BatchRef, FolderRefusal, scan_landing
from .loader import BatchResult, load_batch, prepare_warehouse

__all__ = ["BatchRef", "BatchResult", "FolderRefusal", "Refused", "batch_fingerprint", "load_batch",
           "prepare_warehouse", "scan_landing"]
