"""/api/v1: the JSON API. The same services, scoping and named rules as the pages; a personal
access token (crm.tokens) instead of a session; errors as application/problem+json (RFC 9457);
the OpenAPI 3.1 description generated from the endpoints' schemas by flask-smorest."""
