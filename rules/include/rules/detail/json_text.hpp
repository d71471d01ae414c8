#pragma once
// Cards are written as JSON text, member by member in output order, instead of being built as a
// json::value tree that the service then walks again to serialize: one pass, no node per member.
// Every byte is what json::serialize would write for the same tree (json_text_test checks all
// 256 byte values and random text against it); parts that depend only on rule data are
// serialized once at load by json::serialize and copied in whole with raw() and members().
#include <array>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace rules::detail {

// String escaping is the one step done here rather than by Boost.JSON's serializer: at a
// string's first escape (card text has a line break every line) Boost 1.81's serializer drops to
// a byte-at-a-time loop for the rest of the string, which made escaping ~7 instructions a byte
// and a third of the engine's time. Here the runs between escapes are found 16 bytes at a time
// and copied whole.

// The length of the longest prefix of `s` that JSON writes as is: no '"', '\\' or byte < 0x20.
std::size_t unescaped_prefix(std::string_view s) noexcept;

// How JSON writes a byte that unescaped_prefix() stops at, as Boost.JSON does: \" \\ \b \f \n
// \r \t, and \u00xx (lower-case hex) for the other controls.
inline constexpr auto kJsonEscapes = [] {
  struct Escape {
    char text[7] = {};
    std::uint8_t size = 0;
  };
  std::array<Escape, 256> t{};
  constexpr char hex[] = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = {{'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6};
  auto two = [&](unsigned char c, char e) { t[c] = {{'\\', e}, 2}; };
  two('"', '"');
  two('\\', '\\');
  two('\b', 'b');
  two('\f', 'f');
  two('\n', 'n');
  two('\r', 'r');
  two('\t', 't');
  return t;
}();

// Appends `s` as the inside of a JSON string: escaped, without the quotes, runs that need no
// escape appended whole. Escaping goes byte by byte, so the escape of a concatenation is the
// concatenation of the escapes: text may be escaped in pieces (a template's own text once at
// load, the values put into it as they are substituted) and the pieces joined.
template <typename String>
void escape_to(String& out, std::string_view s) {
  for (;;) {
    const std::size_t n = unescaped_prefix(s);
    out.append(s.substr(0, n));
    if (n == s.size()) return;
    const auto& e = kJsonEscapes[static_cast<unsigned char>(s[n])];
    out.append(std::string_view(e.text, e.size));
    s.remove_prefix(n + 1);
  }
}

// Appends to any string with append() and push_back(): the cards'
// std::string, or a std::pmr::string on the evaluation's scratch arena for a piece serialized
// once and copied into several cards.
template <typename String>
class JsonText {
 public:
  explicit JsonText(String& out) : out_(out) {}
  JsonText(const JsonText&) = delete;
  JsonText& operator=(const JsonText&) = delete;

  JsonText& begin_object() { return open('{'); }
  JsonText& end_object() { return close('}'); }
  JsonText& begin_array() { return open('['); }
  JsonText& end_array() { return close(']'); }

  // A member's name, inside an object; the next call writes its value. Names are the engine's
  // own literals, which need no escaping (asserted), so they are copied as they are.
  JsonText& key(std::string_view name) {
    assert(unescaped_prefix(name) == name.size());
    // ,"name": assembled on the stack and appended at once: one append per member instead of
    // four (each append is a call with its own capacity check, and a card has ~40 members).
    char quoted[kShortKey + 4];
    if (name.size() > kShortKey) {
      separate();
      out_.push_back('"');
      out_.append(name);
      out_.append(std::string_view("\":"));
    } else {
      std::size_t n = 0;
      if (has_items()) quoted[n++] = ',';
      has_items_ |= level_bit();
      quoted[n++] = '"';
      std::memcpy(quoted + n, name.data(), name.size());
      n += name.size();
      quoted[n++] = '"';
      quoted[n++] = ':';
      out_.append(std::string_view(quoted, n));
    }
    after_key_ = true;
    return *this;
  }
  JsonText& string(std::string_view s) {
    value_start();
    out_.push_back('"');
    escape_to(out_, s);
    out_.push_back('"');
    return *this;
  }
  // A string whose text is escaped already (escape_to, or a JsonTemplate): only the quotes.
  JsonText& escaped_string(std::string_view escaped) {
    value_start();
    out_.push_back('"');
    out_.append(escaped);
    out_.push_back('"');
    return *this;
  }
  JsonText& number(std::int64_t n) {
    value_start();
    char digits[24];
    const char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    out_.append(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    return *this;
  }
  JsonText& boolean(bool b) {
    value_start();
    out_.append(b ? std::string_view("true") : std::string_view("false"));
    return *this;
  }
  // One whole value, already serialized.
  JsonText& raw(std::string_view value) {
    value_start();
    out_.append(value);
    return *this;
  }
  // Already serialized members ("a":1,"b":2) of the object being written, or elements of the
  // array being written; nothing when empty.
  JsonText& members(std::string_view serialized) {
    if (serialized.empty()) return *this;
    separate();
    out_.append(serialized);
    return *this;
  }

  // Whether the object or array being written has a member or element yet.
  bool has_items() const noexcept { return (has_items_ & level_bit()) != 0; }

 private:
  JsonText& open(char c) {
    value_start();
    out_.push_back(c);
    ++depth_;
    has_items_ &= ~level_bit();
    return *this;
  }
  JsonText& close(char c) {
    --depth_;
    out_.push_back(c);
    return *this;
  }
  std::uint64_t level_bit() const noexcept { return std::uint64_t{1} << (depth_ & 63); }
  // A comma before every member or element but the first.
  void separate() {
    if (has_items()) out_.push_back(',');
    has_items_ |= level_bit();
  }
  void value_start() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    separate();
  }
  static constexpr std::size_t kShortKey = 60;  // every member name the engine writes is shorter

  String& out_;
  std::uint64_t has_items_ = 0;  // bit d: the container at depth d has an item
  unsigned depth_ = 0;
  bool after_key_ = false;
};

}  // namespace rules::detail
