// URLs as endpoints: the "host/path" template that groups calls to one endpoint, shared by the
// trace analysis (external spans) and the http probe (the endpoint it times), so both name an
// endpoint the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cp {

// URL -> "host/path" template: scheme, query, fragment and credentials dropped; numeric, UUID and
// long hex path segments become {id}.
std::string normalize_url(std::string_view url);
// The same appended to `out`; returns the host (a view into `url`).
std::string_view append_url_template(std::string_view url, std::string& out);
std::string url_host(std::string_view url);
// An id-like value: a number, a UUID, a long hex string (hashes), or a long opaque token (letters
// and digits, at least 20 characters with a digit): what varies between calls to one endpoint.
bool is_identifier_value(std::string_view value);
// A path (or a URL's path) as a route template: id-like segments become {id}; query and fragment
// dropped ("/orders/17/lines?x=1" -> "/orders/{id}/lines").
std::string path_template(std::string_view path);
// 64-bit hash of the URL's query with its id-like values replaced (0 without a query): with the
// path template, calls that differ only by ids share it.
uint64_t query_shape_hash(std::string_view url);
std::string_view url_host_view(std::string_view url);  // a view into `url`

}  // namespace cp
