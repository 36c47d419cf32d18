// Browser side of the demo checkout: reads raw card fields instead of using the provider's
// hosted fields, and posts the payment without an Idempotency-Key. On purpose.
"use strict";

async function pay(orderId) {
  const number = document.getElementById("card-number").value;
  const cvc = document.querySelector("#cvc").value;
  const res = await fetch("/process-payment", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ orderId, number, cvc }),
  });
  return res.json();
}

window.pay = pay;
