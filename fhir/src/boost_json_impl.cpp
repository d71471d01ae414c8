// The one translation unit that compiles Boost.JSON (and only here), so no other file pays for it.
#include <boost/json/src.hpp>
