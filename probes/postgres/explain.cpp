#include "probes/postgres/explain.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probes/postgres/index_advice.hpp"

namespace cp::pg {

namespace {

void strip_outputs(nlohmann::json& node) {
  if (!node.is_object()) return;
  node.erase("Output");
  if (auto it = node.find("Plans"); it != node.end())
    for (auto& child : *it) strip_outputs(child);
}

bool plan_uses_index(const nlohmann::json& node, const std::string& index_name) {
  if (!node.is_object()) return false;
  if (node.value("Index Name", "") == index_name) return true;
  if (auto it = node.find("Plans"); it != node.end())
    for (const auto& child : *it)
      if (plan_uses_index(child, index_name)) return true;
  return false;
}

// The generic plan of a normalized statement, the PostgreSQL 15 way: PREPARE it, force the generic
// plan, EXPLAIN EXECUTE with one NULL per parameter. EXPLAIN without ANALYZE plans, never runs.
nlohmann::json generic_plan(pqxx::transaction_base& tx, const std::string& query, int version) {
  std::string sql;
  if (version >= 160000) {
    sql = "EXPLAIN (FORMAT JSON, VERBOSE, GENERIC_PLAN) " + query;
  } else {
    tx.exec(std::string(kTag) + "DEALLOCATE ALL");
    tx.exec(std::string(kTag) + "PREPARE chokepoint_stmt AS " + query);
    auto n = tx.exec(std::string(kTag) +
                     "SELECT coalesce(array_length(parameter_types, 1), 0) FROM pg_prepared_statements "
                     "WHERE name = 'chokepoint_stmt'")[0][0]
                 .as<int>();
    std::vector<std::string> nulls(static_cast<size_t>(n), "NULL");
    sql = fmt::format("EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE chokepoint_stmt{}",
                      n ? fmt::format("({})", fmt::join(nulls, ", ")) : "");
  }
  auto r = tx.exec(std::string(kTag) + sql);
  auto doc = nlohmann::json::parse(text(r[0][0]), nullptr, false);
  if (!doc.is_array() || doc.empty() || !doc[0].contains("Plan"))
    throw CollectError{"unreadable EXPLAIN output"};
  nlohmann::json plan = doc[0]["Plan"];
  strip_outputs(plan);
  return plan;
}

bool plan_uses_any_index(const nlohmann::json& node, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const auto& n) { return plan_uses_index(node, n); });
}

// The plan with `key` as a hypothetical index on the target (on each partition scanned, for a
// partitioned table).
void what_if(pqxx::dbtransaction& tx, pqxx::connection& conn, const std::string& query, int version,
             const ScanTarget& target, const IndexKey& key, Plan& out) {
  WhatIf w{target.schema, target.table, key.columns, std::nullopt, false, "", key.desc, {}};
  if (target.partitioned) w.partitions = target.leaves;
  try {
    // A savepoint per what-if: one failure (a type without a btree operator class …) must not
    // abort the others.
    pqxx::subtransaction sub(tx, "chokepoint_whatif");
    sub.exec(std::string(kTag) + "SELECT hypopg_reset()");
    std::vector<std::string> index_names;
    for (const auto& leaf : target.leaves) {
      auto dot = leaf.find('.');
      std::string ddl = fmt::format("CREATE INDEX ON {}.{} ({})", conn.quote_name(leaf.substr(0, dot)),
                                    conn.quote_name(leaf.substr(dot + 1)), index_key_sql(key));
      auto r =
          sub.exec(std::string(kTag) + "SELECT indexname FROM hypopg_create_index(" + sub.quote(ddl) + ")");
      if (!r.empty()) index_names.push_back(text(r[0][0]));
    }
    // A fresh PREPARE: a cached generic plan would not see the hypothetical index.
    nlohmann::json plan = generic_plan(sub, query, version);
    w.cost_after = plan.value("Total Cost", 0.0);
    w.used = plan_uses_any_index(plan, index_names);
    sub.exec(std::string(kTag) + "SELECT hypopg_reset()");
    sub.commit();
  } catch (const pqxx::sql_error& e) {
    w.error = libpq_message(e.what());
  } catch (const CollectError& e) {
    w.error = e.message;
  }
  out.what_if.push_back(std::move(w));
}

// Plans the statement (and its what-ifs) into `out`. `search_path`: "" keeps the session's.
void plan_statement(Connection& s, const Statement& st, const Snapshot& snap, double whatif_min_rows,
                    const std::string& search_path, Plan& out) {
  // Inside a read-only transaction that is always rolled back; prepared statements outlive a
  // rollback, so DEALLOCATE runs again afterwards. Partition pruning is off: a generic plan
  // executed with NULL parameters would otherwise prune every partition and show no scan to judge.
  pqxx::read_transaction tx(s.conn());
  tx.exec(std::string(kTag) + "SET LOCAL plan_cache_mode = force_generic_plan");
  tx.exec(std::string(kTag) + "SET LOCAL enable_partition_pruning = off");
  if (!search_path.empty()) tx.exec(std::string(kTag) + "SET LOCAL search_path = " + search_path);
  if (snap.hypopg) tx.exec(std::string(kTag) + "SELECT hypopg_reset()");  // no leftover what-if
  out.plan = generic_plan(tx, st.query, snap.server_version_num);
  out.total_cost = out.plan.value("Total Cost", 0.0);
  if (snap.hypopg) {
    // Bounded: a statement joining many big tables (or one with many partitions) must not turn
    // into hundreds of plannings.
    constexpr size_t kMaxWhatIfsPerStatement = 24;
    for (const auto& target : scan_targets(out.plan, snap.tables, snap.indexes)) {
      if (is_system_schema(target.schema) || target_rows(target, snap.tables) < whatif_min_rows) continue;
      for (const auto& key : target.candidates)
        if (out.what_if.size() < kMaxWhatIfsPerStatement)
          what_if(tx, s.conn(), st.query, snap.server_version_num, target, key, out);
    }
  }
  tx.abort();
}

// The application's search_path is not recorded with its statements: when a table is not found on
// chokepoint's, the database's other schemas are tried after it (one catalogue read).
std::string every_schema_path(Connection& s) {
  auto r = s.run(
      "SELECT current_setting('search_path') || coalesce(', ' || string_agg(quote_ident(nspname), ', ' "
      "ORDER BY nspname), '') FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
      "AND nspname <> 'information_schema'");
  return text(r[0][0]);
}

}  // namespace

Plan explain_statement(Connection& s, const Statement& st, const Snapshot& snap, double whatif_min_rows,
                       std::string& wider_search_path) {
  Plan out;
  out.queryid = st.queryid;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      out = Plan{};
      out.queryid = st.queryid;
      plan_statement(s, st, snap, whatif_min_rows, attempt ? wider_search_path : "", out);
      break;
    } catch (const pqxx::undefined_table& e) {
      out.error = libpq_message(e.what());
      if (attempt == 0 && wider_search_path.empty()) wider_search_path = every_schema_path(s);
    } catch (const pqxx::sql_error& e) {
      out.error = libpq_message(e.what());
      break;
    } catch (const CollectError& e) {
      out.error = e.message;
      break;
    }
  }
  if (snap.server_version_num < 160000) s.run("DEALLOCATE ALL");
  return out;
}

}  // namespace cp::pg
