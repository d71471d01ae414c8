// The one translation unit that compiles Asio (with SSL), Beast and Boost.URL. Everything else
// includes their headers with *_SEPARATE_COMPILATION defined and links this object.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/url/src.hpp>
