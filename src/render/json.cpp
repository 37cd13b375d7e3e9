#include "core/report_json.hpp"
#include "render/render.hpp"

namespace cp {

std::string render_json(const Report& report) {
  return report_to_json(report).dump(2) + "\n";
}

}  // namespace cp
