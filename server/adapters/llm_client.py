"""One structured-output call to an OpenAI-compatible chat API, made robust.

- Every request has a timeout; the SDK's own retries are off so that this module decides.
- 429, 5xx, timeouts and dropped connections are retried `retries` times with exponential
  backoff, honouring Retry-After. A wait longer than `max_wait_s` is not slept here: the
  step fails as retryable with that delay, and the job queue waits instead of the worker.
- When retries run out the step fails as retryable (`llm_unavailable`, or `rate_limited`
  for 429): an outage leaves the job retrying, never finished with a worse result.
- An answer that is not JSON or breaks the schema is re-asked once, quoting the error;
  a second bad answer fails the step as retryable `llm_bad_output`.
- Other 4xx (bad key, unknown model, request too large) fail the job (`llm_rejected`):
  asking again cannot help.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Callable

import openai

from server.adapters.llm_schema import SchemaError, validate
from server.core.failures import StepError, fatal, retryable

log = logging.getLogger(__name__)

# US$ per million tokens (input, output), from OpenAI's public price list; an estimate:
# cached input, batch discounts and price changes are not modelled. Longest prefix wins.
PRICES_PER_MTOK = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}


def estimate_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Estimated price of one call; 0 for models not in the table (self-hosted ones)."""
    match = max((p for p in PRICES_PER_MTOK if model.startswith(p)), key=len, default=None)
    if match is None:
        return 0.0
    price_in, price_out = PRICES_PER_MTOK[match]
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1e6


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# Extra checks beyond the schema (e.g. sentence indices in range); raise SchemaError.
Check = Callable[[dict], None]


class LLMClient:
    def __init__(self, api_key: str, base_url: str, model: str, timeout_s: float,
                 retries: int, max_wait_s: float, backoff_base_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.model = model
        self.retries = retries
        self.max_wait_s = max_wait_s
        self.backoff_base_s = backoff_base_s
        self.sleep = sleep
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url or None,
                                    timeout=timeout_s, max_retries=0)

    def ask(self, name: str, system: str, user: str, schema: dict, usage: Usage,
            check: Check | None = None) -> dict:
        """The parsed, validated answer to one prompt; usage is added to `usage`."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        for attempt in (1, 2):
            content = self._complete(name, messages, schema, usage)
            try:
                answer = json.loads(content)
                validate(answer, schema)
                if check:
                    check(answer)
                return answer
            except (ValueError, SchemaError) as e:   # JSONDecodeError is a ValueError
                problem = f"{type(e).__name__}: {e}"
                log.warning("LLM answer to %s rejected (attempt %d): %s", name, attempt, problem)
                messages += [{"role": "assistant", "content": content},
                             {"role": "user", "content": "That answer is invalid: " + problem
                              + ". Answer again with JSON that follows the schema exactly."}]
        raise retryable("llm_bad_output", f"{self.model} answered {name} twice with invalid "
                        f"output; last problem: {problem}")

    def _complete(self, name: str, messages: list, schema: dict, usage: Usage) -> str:
        for attempt in range(self.retries + 1):
            try:
                response = self.client.chat.completions.create(
                    model=self.model, messages=messages, temperature=0.2,
                    response_format={"type": "json_schema", "json_schema": {
                        "name": name, "strict": True, "schema": schema}})
            except (openai.APITimeoutError, openai.APIConnectionError,
                    openai.RateLimitError, openai.InternalServerError) as e:
                error = self._transient(e)
                if attempt == self.retries or (error.retry_after_s or 0) > self.max_wait_s:
                    raise error from e
                wait = error.retry_after_s or self.backoff_base_s * 2 ** attempt
                log.warning("LLM call %s failed (%s); retrying in %.1f s", name, e, wait)
                self.sleep(wait)
                continue
            except openai.APIStatusError as e:
                raise fatal("llm_rejected", f"{self.model} refused {name}: HTTP "
                            f"{e.status_code} {e.message}") from e
            self._count(response, usage)
            return self._content(name, response)
        raise AssertionError("unreachable")

    def _transient(self, e: openai.APIError) -> StepError:
        if isinstance(e, openai.APIStatusError):
            after = _retry_after_s(e.response.headers.get("retry-after"))
            cause = "rate_limited" if e.status_code == 429 else "llm_unavailable"
            return retryable(cause, f"{self.model}: HTTP {e.status_code} {e.message}",
                             retry_after_s=after)
        return retryable("llm_unavailable", f"{self.model}: {type(e).__name__}: {e}")

    def _count(self, response, usage: Usage) -> None:
        usage.calls += 1
        if response.usage is not None:
            usage.prompt_tokens += response.usage.prompt_tokens or 0
            usage.completion_tokens += response.usage.completion_tokens or 0
            usage.cost_usd += estimate_cost_usd(self.model, response.usage.prompt_tokens or 0,
                                                response.usage.completion_tokens or 0)

    def _content(self, name: str, response) -> str:
        if not response.choices:
            raise retryable("llm_bad_output", f"{self.model} returned no choices for {name}")
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            raise retryable("llm_bad_output", f"{self.model} refused {name}: {message.refusal}")
        return message.content or ""


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare from APIs and read as absent)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
