"""Alarm comments at ThingsBoard's paths (tenant admins, and customer users on their customer's
alarms; another tenant's alarm or comment is a 404):

    POST   /api/alarm/{alarmId}/comment              create (an ``id`` in the body: edit); AlarmComment
    GET    /api/alarm/{alarmId}/comment?pageSize&page&sortProperty&sortOrder
                                                     PageData of AlarmCommentInfo (oldest first)
    DELETE /api/alarm/{alarmId}/comment/{commentId}  a user comment becomes a SYSTEM note; empty 200

The rules are rulechains/alarm_comments.py's.
"""

from dataclasses import replace

from rest_framework.response import Response

from rulechains import alarm_comments
from rulechains.api.alarms import _AlarmResource
from tbproject.api.pagination import page_data, page_request

__all__ = ["AlarmCommentsView", "AlarmCommentView"]

SORT_FIELDS = {"createdTime": "created_time", "id": "id"}


class AlarmCommentsView(_AlarmResource):
    def get(self, request, pk):
        comments = self.alarm(pk).comments.all()
        req = page_request(request.query_params)
        if not req.sort_property:
            comments = comments.order_by("created_time", "pk")
        return Response(page_data(comments, replace(req, text_search=""), search_field="id",
                                  sort_fields=SORT_FIELDS, render=alarm_comments.infos))

    def post(self, request, pk):
        comment = alarm_comments.save(self.alarm(pk), request.user, request.data)
        return Response(alarm_comments.comment_json(comment))


class AlarmCommentView(_AlarmResource):
    def delete(self, request, pk, comment_id):
        alarm_comments.delete(self.alarm(pk), request.user, comment_id)
        return Response(status=200)
