// Fast normalization on the hot path: statement texts from spans (URLs: util/url.hpp), literals replaced so
// that "id = 42" and "id = $1" are one statement. libpg_query runs once per distinct result.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/url.hpp"

namespace cp::traces {

// SQL: string/number literals and placeholders ($n, ?, :name, %s, %(name)s, @p1) become $1, $2 …
// in order; IN (…) lists collapse to IN ($n); whitespace collapses; comments drop. A tokenizer,
// not a parser. A document statement (JSON: MongoDB, Elasticsearch) keeps its keys, values become ?.
std::string normalize_statement(std::string_view sql);
// The same into a reused buffer: the view is valid until the thread's next call (the hot path).
// `values_known`: set when literal values were replaced and no placeholder stands in the text:
// only then do two equal texts mean equal parameters.
std::string_view normalize_statement_view(std::string_view sql, bool* values_known = nullptr);

}  // namespace cp::traces
