// Index advice, pure: which tables a plan scans sequentially, which index column orders could serve
// each scan (filter, join and sort columns), whether an existing index already serves one, and the
// DDL that creates it (partitioned parents included). The collector tests the candidates with
// HypoPG; the rules pick among the results. No I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "probes/postgres/snapshot.hpp"
#include "probes/postgres/sql_shape.hpp"

namespace cp::pg {

// An index key: columns in order, the ones stored DESC named in `desc`.
struct IndexKey {
  std::vector<std::string> columns;
  std::vector<std::string> desc;
  std::string source;  // "filter", "filter+sort", "sort", "join": what the key was derived from
  bool operator==(const IndexKey& o) const { return columns == o.columns && desc == o.desc; }
};

struct SortColumn {
  std::string column;
  bool desc = false;
};

// A table the plan reads sequentially: one table, or the partitions of one partitioned table (with
// partition pruning off, every partition shows up in the plan).
struct ScanTarget {
  std::string schema;
  std::string table;                // the logical table: the partition root for partitions
  std::vector<std::string> leaves;  // "schema.name" of the relations scanned
  std::string alias;                // the alias in the statement (partition scans: its stem)
  std::string node_type;            // "Seq Scan", "Parallel Seq Scan", "Index Scan", "Bitmap Heap Scan" …
  std::string filter;               // the scan's conditions: index condition and filter, ANDed
  double plan_rows = 0;             // rows the scans return, summed over partitions
  FilterColumns filter_columns;
  std::vector<std::string> join_columns;           // equi-join columns of this table
  std::vector<std::vector<SortColumn>> sort_keys;  // sort orders above it that name its columns
  bool partitioned = false;
  bool residual = false;             // an index scan that still filters rows
  std::vector<IndexKey> candidates;  // in the order they are worth testing
};

// Every table the plan scans sequentially, or through an index that still leaves a filter or a sort
// to do, with its candidate index keys (keys an existing index already serves left out). `tables`
// maps partitions to their root.
std::vector<ScanTarget> scan_targets(const nlohmann::json& plan, const std::vector<Table>& tables,
                                     const std::vector<Index>& indexes = {});

// pg_catalog, information_schema, pg_toast…: never advised.
bool is_system_schema(std::string_view schema);

// Rows of the logical table: the table's own, or the sum over its partitions in the plan.
double target_rows(const ScanTarget& t, const std::vector<Table>& tables);

// Rows written to the target (all its partitions) in the counters' period.
struct TableWrites {
  double inserts = 0, updates = 0, deletes = 0, hot_updates = 0;
  double total() const { return inserts + updates + deletes; }
};
TableWrites target_writes(const ScanTarget& t, const std::vector<Table>& tables);

bool is_seq_scan(const std::string& node_type);

// An existing valid btree index (or hash, for one equality column) already leads with this key.
bool key_served_by_index(const std::vector<Index>& indexes, std::string_view schema, std::string_view table,
                         const IndexKey& key);

// "col", "col DESC" …, quoted where PostgreSQL needs it.
std::string index_key_sql(const IndexKey& key);

// The statements that create the index without blocking writes. A plain table: one
// CREATE INDEX CONCURRENTLY. A partitioned table (CONCURRENTLY is refused there): the parent's index
// ON ONLY, one concurrent index per partition, each attached (ALTER INDEX … ATTACH PARTITION).
std::vector<std::string> create_index_statements(const std::vector<Table>& tables, std::string_view schema,
                                                 std::string_view table, const IndexKey& key);

// A name PostgreSQL accepts (<= 63 bytes): table_col1_col2_idx.
std::string index_name(std::string_view table, const IndexKey& key);

}  // namespace cp::pg
