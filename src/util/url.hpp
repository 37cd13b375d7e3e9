// URLs as endpoints: the "host/path" template that groups calls to one endpoint, shared by the
// trace analysis (external spans) and the http probe (the endpoint it times), so both name an
// endpoint the same way.
#pragma once

#include <string>
#include <string_view>

namespace cp {

// URL -> "host/path" template: scheme, query, fragment and credentials dropped; numeric, UUID and
// long hex path segments become {id}.
std::string normalize_url(std::string_view url);
// The same appended to `out`; returns the host (a view into `url`).
std::string_view append_url_template(std::string_view url, std::string& out);
std::string url_host(std::string_view url);
std::string_view url_host_view(std::string_view url);  // a view into `url`

}  // namespace cp
