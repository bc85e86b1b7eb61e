from django.urls import path

from commitments import views, writing_views

app_name = "commitments"
urlpatterns = [
    path("", views.my_commitments, name="mine"),
    path("team/", views.team_commitments, name="team"),
    path("search/", views.search, name="search"),
    path("commitments/new/", views.log_promise, name="new"),
    path("commitments/new/customer/", views.customer_lookup, name="lookup"),
    path("commitments/new/promise/", writing_views.promise_proposal, name="promise"),
    path("commitments/<int:pk>/", views.commitment_detail, name="detail"),
    path("commitments/<int:pk>/calls/<int:task_pk>/", views.log_call, name="log_call"),
    path("commitments/<int:pk>/status-link/", views.replace_status_link, name="replace_link"),
    path("commitments/<int:pk>/compose/", writing_views.compose_preview, name="compose"),
    path("commitments/<int:pk>/<slug:move>/", views.commitment_move, name="move"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("teams/<int:pk>/glossary/", writing_views.team_glossary, name="glossary"),
    path("teams/<int:pk>/templates/", writing_views.team_templates_list, name="templates"),
    path("teams/<int:pk>/templates/<slug:kind>/", writing_views.team_template_edit, name="template"),
    path("teams/<int:pk>/templates/<slug:kind>/preview/", writing_views.team_template_preview, name="template_preview"),
]
