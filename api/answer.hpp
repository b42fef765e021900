// inkan — turning an asynchronous outcome into the one response of a request.
#pragma once

#include <exception>
#include <utility>
#include <variant>

#include "api/http_message.hpp"
#include "api/problem.hpp"
#include "daemon/service/card_agent.hpp"

namespace inkan::api {

/// A completion that answers with `render(value)` or with the problem for the
/// failure. Runs on whichever thread completes the operation (a card worker,
/// the certificate-check pool); touches nothing but its own captures.
template <class T, class Render>
Completion<T> answer(Respond respond, Render render)
{
    return [respond = std::move(respond), render = std::move(render)](Outcome<T> outcome) mutable {
        if (auto* failure = std::get_if<std::exception_ptr>(&outcome)) {
            respond(problemResponse(*failure));
            return;
        }
        Response response;
        try {
            response = render(std::get<T>(outcome));
        } catch (...) {
            response = problemResponse(std::current_exception());
        }
        respond(std::move(response));
    };
}

}  // namespace inkan::api
