// What one statement does to the data, read from PostgreSQL's parse tree (libpg_query): read or
// write, which tables, which columns it filters by range, and session state it relies on. Pure;
// the scaling advice's measurements are built from it.
#pragma once

#include <string>
#include <vector>

namespace cp::pg {

enum class StatementKind { read, write, other };

struct StatementAccess {
  StatementKind kind = StatementKind::other;
  std::string verb;                 // "select", "insert", "update", "delete", "merge", "" (utility)
  std::vector<std::string> tables;  // tables read (select) or written (insert/update/delete), as written
  bool aggregate = false;           // an aggregate or GROUP BY in a read
  std::vector<std::string> range_columns;  // columns compared with <, <=, >, >= or BETWEEN in WHERE
  std::string session_feature;             // session state a transaction pooler would break, "" when none
};

// Reads: SELECT without FOR UPDATE/SHARE, INTO or data-modifying WITH. Writes: INSERT, UPDATE,
// DELETE, MERGE, COPY FROM, locking SELECTs. Everything else (utility, unparsable): other.
StatementAccess statement_access(const std::string& query);

}  // namespace cp::pg
