#include "probes/traces/normalize.hpp"

#include <cctype>
#include <cstring>
#include <utility>
#include <vector>

namespace cp::traces {

namespace {

// Character classes by table: this runs for every database span of a large file.
enum : uint8_t { kSpace = 1, kDigit = 2, kAlpha = 4, kIdent = 8, kWord = 16 };
struct CharClass {
  uint8_t c[256];
  constexpr CharClass() : c() {
    for (int i : {' ', '\t', '\n', '\r', '\f', '\v'}) c[i] = kSpace;
    for (int i = '0'; i <= '9'; ++i) c[i] = kDigit | kIdent;
    for (int i = 'a'; i <= 'z'; ++i) c[i] = kAlpha | kIdent;
    for (int i = 'A'; i <= 'Z'; ++i) c[i] = kAlpha | kIdent;
    c[static_cast<int>('_')] = kIdent;
    c[static_cast<int>('.')] = kIdent;
    for (int i = 0; i < 256; ++i)  // the characters of a keyword or identifier after its first
      if ((c[i] & (kAlpha | kDigit)) || i == '_') c[i] |= kWord;
  }
};
constexpr CharClass kClass;
inline bool is_space(char ch) {
  return kClass.c[static_cast<unsigned char>(ch)] & kSpace;
}
inline bool is_digit(char ch) {
  return kClass.c[static_cast<unsigned char>(ch)] & kDigit;
}
inline bool is_alpha(char ch) {
  return kClass.c[static_cast<unsigned char>(ch)] & kAlpha;
}
inline bool is_alnum(char ch) {
  return kClass.c[static_cast<unsigned char>(ch)] & (kAlpha | kDigit);
}
inline bool is_ident_char(char ch) {
  return kClass.c[static_cast<unsigned char>(ch)] & kIdent;
}

// The tokenizer writes through a sink that also answers what it was last given (it looks back at
// the output, e.g. for "IN (").
// It writes into a reused buffer sized up front (a one-character literal becomes "$n", so 3x the
// input is always enough): no allocation and no capacity check per character.
struct Writer {
  char* begin;
  char* w;
  bool literals = false;      // a literal value was replaced
  bool placeholders = false;  // a placeholder ($1, ?, :name, %s, @p1) stood for a value
  void put(char c) { *w++ = c; }
  void put(std::string_view s) {
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  }
  size_t size() const { return static_cast<size_t>(w - begin); }
  char back(size_t k) const { return k < size() ? w[-1 - static_cast<std::ptrdiff_t>(k)] : '\0'; }
};

template <typename Sink>
void append_param(Sink& out, int& n) {
  ++n;
  out.put('$');
  char digits[12];
  int len = 0;
  for (int v = n; v > 0; v /= 10) digits[len++] = static_cast<char>('0' + v % 10);
  while (len) out.put(digits[--len]);
}

// After "IN (" : if the list holds only literals/params, emit a single "$n" and skip to ")".
template <typename Sink>
bool collapse_in_list(std::string_view sql, size_t& i, Sink& out, int& n) {
  size_t j = i;
  bool any = false;
  while (j < sql.size()) {
    char c = sql[j];
    if (c == ')') break;
    if (c == '\'') {  // string literal
      ++j;
      while (j < sql.size() && !(sql[j] == '\'' && (j + 1 >= sql.size() || sql[j + 1] != '\'')))
        j += sql[j] == '\'' ? 2 : 1;
      ++j;
      any = true;
      out.literals = true;
    } else if (is_digit(c) || c == '$' || c == '?' || c == '-' || c == '.' || c == '+') {
      (c == '$' || c == '?' ? out.placeholders : out.literals) = true;
      ++j;
      while (j < sql.size() && (is_alnum(sql[j]) || sql[j] == '.')) ++j;
      any = true;
    } else if (c == ',' || is_space(c)) {
      ++j;
    } else {
      return false;  // a subquery or an expression: leave it alone
    }
  }
  if (!any || j >= sql.size()) return false;
  append_param(out, n);
  i = j;  // at ')'
  return true;
}

// A comment at sql[i] (-- to the end of the line, or /* */): skipped, and true.
bool skip_comment(std::string_view sql, size_t& i) {
  if (sql[i] == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
    while (i < sql.size() && sql[i] != '\n') ++i;
    return true;
  }
  if (sql[i] == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
    size_t end = sql.find("*/", i + 2);
    i = end == std::string_view::npos ? sql.size() : end + 2;
    return true;
  }
  return false;
}

// Past the string literal whose opening quote is at `i` ('' and backslash escapes inside).
size_t end_of_string_literal(std::string_view sql, size_t i) {
  ++i;
  while (i < sql.size()) {
    if (sql[i] == '\\' && i + 1 < sql.size()) {
      i += 2;
    } else if (sql[i] == '\'') {
      if (i + 1 < sql.size() && sql[i + 1] == '\'') {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return i;
}

// The output so far ends with the keyword IN.
template <typename Sink>
bool after_in(Sink& out) {
  return out.size() >= 2 && (out.back(1) == 'I' || out.back(1) == 'i') &&
         (out.back(0) == 'N' || out.back(0) == 'n') && (out.size() == 2 || !is_ident_char(out.back(2)));
}

// `IN (` at sql[i]: a list of literals or parameters becomes one parameter, anything else is kept.
template <typename Sink>
void put_in_list(std::string_view sql, size_t& i, Sink& out, int& n) {
  out.put('(');
  ++i;
  size_t save = i;
  if (collapse_in_list(sql, i, out, n)) {
    out.put(')');
    ++i;
  } else {
    i = save;
  }
}

// Past the placeholder at sql[i], or i: $1, ?, :name / :1 (not a :: cast), %s and %(name)s
// (Python DB-API), @p1 / @name (SQL Server, .NET).
size_t placeholder_end(std::string_view sql, size_t i) {
  char c = sql[i];
  auto word_end = [&](size_t from) {
    while (from < sql.size() && (is_alnum(sql[from]) || sql[from] == '_')) ++from;
    return from;
  };
  bool next_alnum = i + 1 < sql.size() && is_alnum(sql[i + 1]);
  if (c == '?') return word_end(i + 1);
  if (c == '$' && i + 1 < sql.size() && is_digit(sql[i + 1])) return word_end(i + 1);
  if (c == ':' && next_alnum && (i == 0 || sql[i - 1] != ':')) return word_end(i + 1);
  bool next_word = next_alnum || (i + 1 < sql.size() && sql[i + 1] == '_');  // @__p_0 (EF Core)
  if (c == '@' && next_word && (i == 0 || sql[i - 1] != '@')) return word_end(i + 1);
  if (c == '%' && i + 1 < sql.size()) {
    if (sql[i + 1] == 's' && (i + 2 >= sql.size() || !is_alnum(sql[i + 2]))) return i + 2;
    if (sql[i + 1] == '(') {
      size_t close = sql.find(')', i + 2);
      if (close != std::string_view::npos && close + 1 < sql.size() && sql[close + 1] == 's')
        return close + 2;
    }
  }
  return i;
}

template <typename Sink>
void tokenize(std::string_view sql, Sink& out) {
  int n = 0;
  bool space = false;
  size_t i = 0;
  auto emit_space = [&] {
    if (space && out.size() > 0) out.put(' ');
    space = false;
  };
  auto after_ident = [&] { return out.size() > 0 && is_ident_char(out.back(0)); };
  while (i < sql.size()) {
    char c = sql[i];
    if (is_space(c)) {
      space = true;
      ++i;
    } else if ((is_alpha(c) || c == '_') &&
               !((c == 'E' || c == 'e') && i + 1 < sql.size() && sql[i + 1] == '\'')) {
      // A keyword or an identifier, copied whole (digits inside it are not literals): most of a
      // statement's characters take this path.
      size_t end = i + 1;
      while (end < sql.size() && (kClass.c[static_cast<unsigned char>(sql[end])] & kWord)) ++end;
      emit_space();
      out.put(sql.substr(i, end - i));
      i = end;
    } else if (skip_comment(sql, i)) {
      space = true;
    } else if (c == '\'' ||
               ((c == 'E' || c == 'e') && i + 1 < sql.size() && sql[i + 1] == '\'' && !after_ident())) {
      i = end_of_string_literal(sql, c == '\'' ? i : i + 1);
      emit_space();
      append_param(out, n);
      out.literals = true;
    } else if (c == '"') {  // quoted identifier: kept
      emit_space();
      size_t end = sql.find('"', i + 1);
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.put(sql.substr(i, end - i));
      i = end;
    } else if ((is_digit(c) || (c == '.' && i + 1 < sql.size() && is_digit(sql[i + 1]))) &&
               (!after_ident() || space)) {
      while (i < sql.size() && (is_alnum(sql[i]) || sql[i] == '.')) ++i;
      emit_space();
      append_param(out, n);
      out.literals = true;
    } else if (size_t end = placeholder_end(sql, i); end != i) {
      i = end;
      emit_space();
      append_param(out, n);
      out.placeholders = true;
    } else if (c == '(' && after_in(out)) {
      emit_space();
      put_in_list(sql, i, out, n);
    } else {
      emit_space();
      out.put(c);
      ++i;
    }
  }
}

// A document statement (MongoDB's filter or command, an Elasticsearch body): keys are kept,
// values become ?, and a list of values one ?; "?" values already redacted count as placeholders.
template <typename Sink>
void normalize_json_statement(std::string_view doc, Sink& out) {
  size_t i = 0;
  auto skip_space = [&](size_t j) {
    while (j < doc.size() && is_space(doc[j])) ++j;
    return j;
  };
  auto put_value = [&](std::string_view v) {
    bool redacted = v == "\"?\"" || v == "?";
    (redacted ? out.placeholders : out.literals) = true;
    if (out.size() >= 2 && out.back(0) == ',' && out.back(1) == '?') {
      --out.w;  // the next value of a list: [?, ?, ?] is [?]
      return;
    }
    out.put('?');
  };
  while (i < doc.size()) {
    char c = doc[i];
    if (is_space(c)) {
      ++i;
    } else if (c == '"') {
      size_t end = i + 1;
      while (end < doc.size() && doc[end] != '"') end += doc[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, doc.size());
      size_t after = skip_space(end);
      if (after < doc.size() && doc[after] == ':')
        out.put(doc.substr(i, end - i));  // a key
      else
        put_value(doc.substr(i, end - i));
      i = end;
    } else if (is_alnum(c) || c == '-' || c == '.') {
      size_t end = i;
      while (end < doc.size() &&
             (is_alnum(doc[end]) || doc[end] == '-' || doc[end] == '.' || doc[end] == '+'))
        ++end;
      put_value(doc.substr(i, end - i));
      i = end;
    } else {
      out.put(c);
      ++i;
    }
  }
}

}  // namespace

std::string_view normalize_statement_view(std::string_view sql, bool* values_known) {
  thread_local std::vector<char> buffer;
  if (buffer.size() < sql.size() * 3 + 16) buffer.resize(sql.size() * 3 + 16);
  Writer out{buffer.data(), buffer.data()};
  size_t first = sql.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (sql[first] == '{' || sql[first] == '['))
    normalize_json_statement(sql.substr(first), out);
  else
    tokenize(sql, out);
  if (values_known) *values_known = out.literals && !out.placeholders;
  while (out.w != out.begin && (out.w[-1] == ';' || out.w[-1] == ' ')) --out.w;
  return {out.begin, out.size()};
}

std::string normalize_statement(std::string_view sql) {
  return std::string(normalize_statement_view(sql));
}

}  // namespace cp::traces
