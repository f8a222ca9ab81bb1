#!/usr/bin/env bash
# Groups a perf.data flat profile into coarse categories by thread name (used by profile.sh).
# perf_categories.sh PERF_DATA
perf report -i "$1" --no-children --sort comm,dso,sym -g none --stdio 2>/dev/null | grep '%' | awk '
{ p = $1; sub(/%/, "", p); l = $0; c = "other"
  if (l ~ /alloc::collections::btree/) c = "BTreeMap (serde_json::Value objects)"
  else if (l ~ /serde_json|serde_core|zmij|itoa/) c = "serde_json parse/serialize"
  else if (l ~ /malloc|_int_free|cfree|realloc|unlink_chunk|consolidate/) c = "malloc/free"
  else if (l ~ /sqlite3|pcache|Vdbe|wal[A-Z]|btree[A-Z]|sqlite/) c = "SQLite"
  else if (l ~ /diesel/) c = "diesel"
  else if (l ~ /kallsyms/) c = "kernel (syscalls, IO, scheduling)"
  else if (l ~ /miniz|inflate|flate2/) c = "gzip"
  else if (l ~ /sha2/) c = "sha256"
  else if (l ~ /memmove|memcpy|memcmp|memset/) c = "memcpy/memcmp"
  else if (l ~ /chrono/) c = "chrono"
  else if (l ~ /pthread_mutex/) c = "mutex"
  else if (l ~ /to_lowercase/) c = "to_lowercase (sort by name)"
  s[$2 " | " c] += p }
END { for (k in s) printf "%6.1f%%  %s\n", s[k], k }' | sort -rn
