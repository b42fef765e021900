// inkan — the one translation unit that compiles Boost.Asio, Asio SSL and Beast.
//
// api/CMakeLists.txt defines BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION, so every other file of the API sees only
// declarations and this file carries the implementations. Touching a handler
// therefore never recompiles Asio.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
