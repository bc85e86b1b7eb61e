"""The customer's side: the status page behind a link, its actions, and the limits every customer route passes."""
