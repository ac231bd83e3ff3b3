from django.urls import URLPattern, URLResolver, path

from backend.console.views import programmes, programmes_builder

# Patient-scoped pages live under programmes/patient/<id>/ here, beside the templates and
# proposals, so the patients area's own URL module stays its own.
urlpatterns: list[URLPattern | URLResolver] = [
    path("templates/", programmes.template_list, name="templates"),
    path("templates/<int:template_id>/", programmes.template_detail, name="template"),
    path(
        "templates/<int:template_id>/archive/",
        programmes.template_archive,
        name="template_archive",
    ),
    path(
        "templates/<int:template_id>/prescribe/",
        programmes.template_prescribe,
        name="template_prescribe",
    ),
    path("proposals/", programmes.proposal_list, name="proposals"),
    path("proposals/<int:proposal_id>/accept/", programmes.proposal_accept, name="proposal_accept"),
    path(
        "proposals/<int:proposal_id>/dismiss/",
        programmes.proposal_dismiss,
        name="proposal_dismiss",
    ),
    path(
        "patient/<int:patient_id>/programme/",
        programmes_builder.programme_builder,
        name="programme_builder",
    ),
    path(
        "patient/<int:patient_id>/programme/status/",
        programmes_builder.programme_status,
        name="programme_status",
    ),
    path(
        "patient/<int:patient_id>/programme/from-template/",
        programmes_builder.programme_from_template,
        name="programme_from_template",
    ),
    path(
        "patient/<int:patient_id>/programme/save-as-template/",
        programmes_builder.programme_save_as_template,
        name="programme_save_as_template",
    ),
    path(
        "patient/<int:patient_id>/programme/print/",
        programmes_builder.programme_print,
        name="programme_print",
    ),
]
