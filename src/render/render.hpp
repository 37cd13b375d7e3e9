// Renderers only render: they read a finished report and never decide anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace cp {

enum class Format { text, json, markdown, junit, prometheus };
std::optional<Format> format_from_string(std::string_view s);

struct RenderOptions {
  bool color = false;  // text only
};

std::string render(const Report& report, Format format, const RenderOptions& options = {});

std::string render_text(const Report& report, const RenderOptions& options);
std::string render_json(const Report& report);
std::string render_markdown(const Report& report);
std::string render_junit(const Report& report);
std::string render_prometheus(const Report& report);

}  // namespace cp
