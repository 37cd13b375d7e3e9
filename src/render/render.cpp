#include "render/render.hpp"

#include <stdexcept>

namespace cp {

std::optional<Format> format_from_string(std::string_view s) {
  if (s == "text") return Format::text;
  if (s == "json") return Format::json;
  if (s == "markdown") return Format::markdown;
  if (s == "junit") return Format::junit;
  if (s == "prometheus") return Format::prometheus;
  return std::nullopt;
}

std::string render(const Report& report, Format format, const RenderOptions& options) {
  switch (format) {
    case Format::text:
      return render_text(report, options);
    case Format::json:
      return render_json(report);
    case Format::markdown:
      return render_markdown(report);
    case Format::junit:
      return render_junit(report);
    case Format::prometheus:
      return render_prometheus(report);
  }
  throw std::logic_error("unknown format");
}

}  // namespace cp
