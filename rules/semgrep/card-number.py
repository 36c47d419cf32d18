# Test cases for card-number.yaml (semgrep --test). The "real-looking" numbers below are
# Luhn-valid but are not published test cards; none is a real card.

# ruleid: payment.card-number-literal
CARD = "4916338506082832"

# ruleid: payment.card-number-literal
amex = "349284071392567"

# ruleid: payment.card-number-literal
mastercard_as_int = 5312602340191845

# ruleid: payment.card-number-literal
diners = charge(pan="30123456789019")

# ok: payment.card-number-literal
not_luhn = "4916338506082833"

# ok: payment.card-number-literal
order_id = "1234567890123452"

# ok: payment.card-number-literal
too_short = "424242424242"

# ok: payment.card-number-literal
timestamp_ms = 1700000000004

# ok: payment.card-number-literal
unix_ns = "1699999999999999992"

# ruleid: payment.card-number-literal
with_text = "card 4916338506082832 on file"

# ruleid: payment.card-number-literal
# customer called about 5312602340191845, see ticket 4411

# ok: payment.card-number-literal
hex_digest = "a4916338506082832f"

# ok: payment.card-number-literal
version = "4916338506082832.1"

# ok: payment.card-number-literal
masked = "491633******2832"

# ruleid: payment.test-card-number-outside-tests
DEMO_CARD = "4242424242424242"

# ruleid: payment.test-card-number-outside-tests
amex_test = 378282246310005

# ruleid: payment.card-number-literal
looks_like_a_test_card = "4242424242424200"

# ok: payment.test-card-number-outside-tests
spaced_for_display = "4242 4242 4242 4242"

# ok: payment.test-card-number-outside-tests
almost_a_test_card = "4242424242424243"
